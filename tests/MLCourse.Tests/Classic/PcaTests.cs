using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

/// <summary>
/// The PCA worked example of seed 004: A = [2.5, 2.4], B = [0.4, 0.7], C = [2.2, 2.9]. Expected values computed
/// with python3 (no numpy), closed-form 2×2 eigenvalues λ = tr/2 ± √(tr²/4 − det):
///   mean = [1.7, 2.0]
///   S = [[1.29, 1.23], [1.23, 1.33]] (n − 1 = 2): cov(x,x) = (0.8² + 1.3² + 0.5²)/2 = 2.58/2 = 1.29.
///     The notes write cov(x,x) = 1.26, an arithmetic slip; cov(x,y) = 1.23 and cov(y,y) = 1.33 agree.
///   λ1 = 2.540163, λ2 = 0.079837 (the notes, from their 1.26, get 2.53 and 0.06; from 1.26 the roots would be
///     2.525498 and 0.064502, so even their own matrix rounds 0.0645 to 0.06)
///   v1 = [0.701335, 0.712832], v2 = [0.712832, −0.701335] (the notes give [0.696, 0.713] and [0.713, −0.696],
///     which are not unit vectors and come from the wrong S)
///   explained variance ratio = [0.969528, 0.030472] (notes: 0.98 / 0.02)
///   coordinates on the first component = [0.846201, −1.838417, 0.992216]
/// </summary>
public class PcaTests
{
    private const double Tol = 1e-6;

    private static torch.Tensor Abc() => torch.tensor(new double[] { 2.5, 2.4, 0.4, 0.7, 2.2, 2.9 }).reshape(3, 2);

    private static double[] Values(torch.Tensor t) => t.contiguous().data<double>().ToArray();

    private static void Near(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], Tol);
    }

    [Fact]
    public void Mean_and_covariance_divide_by_n_minus_one()
    {
        var pca = new Pca().Fit(Abc());
        Near([1.7, 2.0], Values(pca.Mean));
        Near([1.29, 1.23, 1.23, 1.33], Values(pca.Covariance));
    }

    [Fact]
    public void Eigenvalues_are_sorted_largest_first_and_match_the_closed_form()
    {
        var pca = new Pca().Fit(Abc());
        Near([2.540163, 0.079837], Values(pca.Eigenvalues));
        Near([0.969528, 0.030472], Values(pca.ExplainedVarianceRatio));
    }

    [Fact]
    public void Eigenvectors_match_up_to_sign_and_are_orthonormal()
    {
        var pca = new Pca().Fit(Abc());
        var v = Values(pca.Components);
        double s1 = Math.Sign(v[0]), s2 = Math.Sign(v[2]);
        Near([0.701335, 0.712832, 0.712832, -0.701335], [s1 * v[0], s1 * v[1], s2 * v[2], s2 * v[3]]);
        using var gram = pca.Components.matmul(pca.Components.T);
        Assert.True(gram.allclose(torch.eye(2, dtype: torch.float64), atol: 1e-12));
        // S v = λ v for each component
        using var Sv = pca.Covariance.matmul(pca.Components.T);
        using var vLambda = pca.Components.T * pca.Eigenvalues;
        Assert.True(Sv.allclose(vLambda, atol: 1e-12));
    }

    [Fact]
    public void Transform_projects_onto_the_first_component_and_inverse_reconstructs()
    {
        var pca1 = new Pca(numComponents: 1).Fit(Abc());
        using var Z = pca1.Transform(Abc());
        Assert.Equal(new long[] { 3, 1 }, Z.shape);
        double sign = Math.Sign(Values(pca1.Components)[0]);
        Near([0.846201, -1.838417, 0.992216], Values(Z).Select(z => sign * z).ToArray());
        // the variance of the coordinates is the eigenvalue
        Assert.Equal(2.540163, Z.var(0L).item<double>(), Tol);
        // dropping the second component loses (n − 1)·λ2 = 2 · 0.079837 of squared error
        using var back = pca1.InverseTransform(Z);
        Assert.Equal(2 * 0.0798374, (back - Abc()).pow(2).sum().item<double>(), Tol);

        var pca2 = new Pca().Fit(Abc());
        using var round = pca2.InverseTransform(pca2.Transform(Abc()));
        Assert.True(round.allclose(Abc(), atol: 1e-12));
    }

    [Fact]
    public void Float32_input_gives_float32_coordinates()
    {
        using var X = Abc().to(torch.float32);
        var pca = new Pca(1).Fit(X);
        using var Z = pca.Transform(X);
        Assert.Equal(torch.float32, Z.dtype);
    }
}

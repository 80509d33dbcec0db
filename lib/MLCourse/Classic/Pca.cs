using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// Principal component analysis (PCA, 主成分分析), step by step as in the lecture: centre the data, form the
/// covariance matrix S (dividing by n − 1, the unbiased sample covariance the notes use), eigen-decompose it
/// (torch.linalg.eigh, S is symmetric), and sort the eigenvectors by eigenvalue, largest first. The variance of the
/// data along component i is its eigenvalue λ_i, so λ_i / Σλ is the share of variance it explains (贡献度).
/// Eigenvectors are defined up to sign; each is flipped so its largest-magnitude entry is positive.
/// Computed in float64. Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class Pca
{
    private Tensor? mean, covariance, eigenvalues, components;

    /// <summary>Creates a PCA that keeps <paramref name="numComponents"/> components (null keeps all).</summary>
    public Pca(int? numComponents = null)
    {
        if (numComponents is <= 0) throw new ArgumentOutOfRangeException(nameof(numComponents), "numComponents must be positive.");
        NumComponents = numComponents;
    }

    /// <summary>Components kept, or null for all.</summary>
    public int? NumComponents { get; }

    /// <summary>Feature means x̄, shape (d).</summary>
    public Tensor Mean => mean ?? throw NotFitted();

    /// <summary>Covariance matrix S = (X − x̄)ᵀ(X − x̄) / (n − 1), shape (d, d).</summary>
    public Tensor Covariance => covariance ?? throw NotFitted();

    /// <summary>All eigenvalues of S, largest first, shape (d).</summary>
    public Tensor Eigenvalues => eigenvalues ?? throw NotFitted();

    /// <summary>The kept principal directions as rows (unit eigenvectors of S, largest eigenvalue first), shape (k, d).</summary>
    public Tensor Components => components ?? throw NotFitted();

    /// <summary>Variance along each kept component (its eigenvalue), shape (k).</summary>
    public Tensor ExplainedVariance => Eigenvalues[..(int)Components.shape[0]];

    /// <summary>Share of the total variance explained by each kept component, λ_i / Σ_all λ, shape (k).</summary>
    public Tensor ExplainedVarianceRatio => ExplainedVariance / Eigenvalues.sum();

    /// <summary>Learns mean, covariance and components from <paramref name="X"/> (samples, features), n ≥ 2.</summary>
    public Pca Fit(Tensor X)
    {
        if (X.dim() != 2 || X.shape[0] < 2) throw new ArgumentException("X must be 2-D with at least two samples.");
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        long n = x.shape[0], d = x.shape[1];
        var mu = x.mean([0]);                                     // (d)
        var centred = x - mu;                                     // (n, d)
        var S = centred.T.matmul(centred) / (n - 1);              // (d, d)
        var (values, vectors) = torch.linalg.eigh(S);             // ascending eigenvalues, vectors as columns
        var order = values.argsort(descending: true);
        values = values.index_select(0, order);
        vectors = vectors.index_select(1, order).T;               // (d, d), one eigenvector per row
        // sign convention: the largest-magnitude entry of each eigenvector is positive
        var pivot = vectors.abs().argmax(1, keepdim: true);      // (d, 1)
        var signs = vectors.gather(1, pivot).sign();              // (d, 1)
        vectors = vectors * signs;
        int k = (int)Math.Min(NumComponents ?? d, d);
        mean = TensorArrays.Keep(mu);
        covariance = TensorArrays.Keep(S);
        eigenvalues = TensorArrays.Keep(values);
        components = TensorArrays.Keep(vectors[..k]);
        return this;
    }

    /// <summary>Coordinates of each row in the principal components: (X − x̄) Vᵀ, shape (samples, k).</summary>
    public Tensor Transform(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        return (X.to(float64) - Mean).matmul(Components.T).to(X.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Back from component coordinates to feature space: Z V + x̄, shape (samples, d). Exact when all components are kept.</summary>
    public Tensor InverseTransform(Tensor Z)
    {
        using var scope = torch.NewDisposeScope();
        return (Z.to(float64).matmul(Components) + Mean).to(Z.dtype).MoveToOuterDisposeScope();
    }

    private static InvalidOperationException NotFitted() => new("Call Fit before using the PCA.");
}

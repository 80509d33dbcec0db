// Checks of hw-classic-ml.q3, PcaEigen(X, k) (4 points). Compiled by the grader as a continuation of the student's
// session: `PcaEigen` is the student's function, `Pca` the library's reference.
using MLCourse.Classic;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-classic-ml.q3", Points = 4)]
sealed class PcaEigenCheck(Func<Tensor, int, (Tensor components, Tensor explainedVarianceRatio)> PcaEigen) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        // Correlated data with well-separated variances, so the eigenvectors are well defined.
        (Tensor X, int k, Pca reference, string what) Case(bool allComponents)
        {
            int n = grade.Random.Next(30, 200), d = grade.Random.Next(2, 7);
            int k = allComponents ? d : grade.Random.Next(1, d);
            var scales = torch.tensor(Enumerable.Range(0, d).Select(i => Math.Pow(2.0, d - i) * (1 + 0.2 * grade.Random.NextDouble())).ToArray());
            var (rotation, _) = torch.linalg.qr(torch.randn(d, d, dtype: float64));
            var X = (torch.randn(n, d, dtype: float64) * scales).matmul(rotation.T) + torch.randn(d, dtype: float64) * 3;
            return (X, k, new Pca(k).Fit(X), $"PcaEigen(X of shape [{n}, {d}], k = {k})");
        }

        grade.Part("output shapes", 1, () =>
        {
            var (X, k, _, what) = Case(false);
            var (components, ratio) = PcaEigen(X.clone(), k);
            Expect.Shape(components, [k, X.shape[1]], $"{what}: components (one component per row)");
            Expect.Shape(ratio, [k], $"{what}: explained variance ratio");
        });

        grade.Part("explained variance ratio", 1.5, () =>
        {
            foreach (bool all in new[] { false, true })
            {
                var (X, k, reference, what) = Case(all);
                var (_, ratio) = PcaEigen(X.clone(), k);
                var expected = reference.ExplainedVarianceRatio;
                string? hint = null;
                if (ratio.shape.SequenceEqual(expected.shape))
                {
                    var r = ratio.to(float64).cpu();
                    if (k < X.shape[1] && Math.Abs(r.sum().item<double>() - 1) < 1e-6)
                        hint = "Divide by the sum of ALL d eigenvalues, not only the k you keep.";
                    else if (r.flip(0).sub(expected).abs().max().item<double>() < 1e-6 && k > 1)
                        hint = "Largest first: torch.linalg.eigh returns the eigenvalues in ascending order.";
                    else if (!torch.allclose(r, expected, rtol: 1e-5, atol: 1e-6) && Mistake(X, k, r, null) is { } mistake)
                        hint = mistake;
                }
                Expect.Close(ratio, expected, $"{what}: explained variance ratio", atol: 1e-6, rtol: 1e-5,
                    hint: hint ?? "λ_i / Σ_j λ_j for the k largest eigenvalues of the covariance matrix, largest first.");
            }
        });

        grade.Part("principal components (up to sign)", 1.5, () =>
        {
            foreach (bool all in new[] { false, true })
            {
                var (X, k, reference, what) = Case(all);
                var (components, _) = PcaEigen(X.clone(), k);
                var expected = reference.Components;                                          // (k, d), unit rows
                Expect.Shape(components, expected.shape, $"{what}: components");
                var c = components.to(float64).cpu();
                // each row may be flipped: compare with the sign that matches best
                var sign = (c * expected).sum(1, keepdim: true).sign();
                sign = torch.where(sign == 0, torch.ones_like(sign), sign);
                string hint = "The rows must be unit eigenvectors of the covariance matrix, largest eigenvalue first; "
                              + "torch.linalg.eigh returns them as COLUMNS in ascending order.";
                if ((c.pow(2).sum(1).sqrt() - 1).abs().max().item<double>() > 1e-3)
                    hint = "Each component must be a unit vector (length 1).";
                else if (!torch.allclose(c * sign, expected, rtol: 1e-5, atol: 1e-6) && Mistake(X, k, null, c) is { } mistake)
                    hint = mistake;
                Expect.Close(c * sign, expected, $"{what}: component (row, entry)", atol: 1e-6, rtol: 1e-5, hint: hint);
            }
        });
    }

    /// <summary>
    /// The typical wrong PCAs (each a mutation of the solution), on the same data: the message of the one whose explained
    /// variance ratio (or components, up to sign) the student's match, or null.
    /// </summary>
    private static string? Mistake(Tensor X, int k, Tensor? ratio, Tensor? components)
    {
        using var scope = torch.NewDisposeScope();
        (Tensor Components, Tensor Ratio) Pca(bool centre, bool largestFirst)
        {
            var x = centre ? X - X.mean([0]) : X;
            var (values, vectors) = torch.linalg.eigh(x.T.matmul(x) / (X.shape[0] - 1));
            var order = values.argsort(descending: largestFirst)[..k];
            return (vectors.index_select(1, order).T, values.index_select(0, order) / values.sum());
        }
        var mistakes = new (string Message, bool Centre, bool LargestFirst)[]
        {
            ("the data are not centred: subtract the mean of each column before the covariance matrix (X − mean)ᵀ(X − mean)/(n − 1).", false, true),
            ("these are the k SMALLEST eigenvalues and their vectors. Largest first: torch.linalg.eigh returns the eigenvalues in ascending "
             + "order, so sort them descending (argsort(descending: true)).", true, false),
        };
        foreach (var (message, centre, largestFirst) in mistakes)
        {
            var (c, r) = Pca(centre, largestFirst);
            if (ratio is not null && ratio.shape.SequenceEqual(r.shape) && torch.allclose(ratio, r, rtol: 1e-5, atol: 1e-6)) return message;
            if (components is not null && components.shape.SequenceEqual(c.shape))
            {
                var sign = (components * c).sum(1, keepdim: true).sign();
                sign = torch.where(sign == 0, torch.ones_like(sign), sign);
                if (torch.allclose(components * sign, c, rtol: 1e-5, atol: 1e-6)) return message;
            }
        }
        return null;
    }
}

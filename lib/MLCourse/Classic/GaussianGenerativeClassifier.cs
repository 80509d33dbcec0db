using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// The probabilistic generative model (概率生成模型) of the classification lecture: assume each class C_k generates
/// x from a Gaussian N(μ_k, Σ_k), estimate μ_k and Σ_k by maximum likelihood (divide by the class count n_k) and the
/// prior P(C_k) = n_k/n, then classify by Bayes' rule P(C_k | x) ∝ P(x | C_k) P(C_k). Sharing one covariance
/// Σ = Σ_k (n_k/n) Σ_k between the classes makes the boundary linear: for two classes P(C_1 | x) = σ(w·x + b)
/// (see <see cref="LinearForm"/>), the same form logistic regression learns directly.
/// Introduced in chapter 02 (classification).
/// </summary>
public sealed class GaussianGenerativeClassifier
{
    private Tensor? priors, means, covariances;

    /// <summary>Creates an untrained classifier.</summary>
    /// <param name="sharedCovariance">One covariance for all classes (linear boundary, fewer parameters) or one per class (quadratic).</param>
    /// <param name="ridge">Added to the diagonal of every covariance so it can be inverted.</param>
    public GaussianGenerativeClassifier(bool sharedCovariance = true, double ridge = 1e-9)
    {
        SharedCovariance = sharedCovariance;
        Ridge = ridge;
    }

    /// <summary>Whether the classes share one covariance.</summary>
    public bool SharedCovariance { get; }

    /// <summary>Diagonal term added to the covariances.</summary>
    public double Ridge { get; }

    /// <summary>Priors P(C_k) = n_k/n, shape (C).</summary>
    public Tensor Priors => priors ?? throw NotFitted();

    /// <summary>Class means μ_k, shape (C, d).</summary>
    public Tensor Means => means ?? throw NotFitted();

    /// <summary>Covariances Σ_k, shape (C, d, d); all equal when <see cref="SharedCovariance"/>.</summary>
    public Tensor Covariances => covariances ?? throw NotFitted();

    /// <summary>Estimates priors, means and covariances from <paramref name="X"/> (samples, features) and labels <paramref name="y"/> (0..C-1).</summary>
    public GaussianGenerativeClassifier Fit(Tensor X, Tensor y)
    {
        TensorArrays.CheckSameLength(X, y);
        var labels = TensorArrays.Labels(y);
        int numClasses = TensorArrays.NumClasses(labels);
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        long n = x.shape[0], d = x.shape[1];
        var yy = y.to(int64, x.device);
        var mu = new List<Tensor>();
        var sigma = new List<Tensor>();
        var count = new double[numClasses];
        for (int k = 0; k < numClasses; k++)
        {
            var xk = x.index_select(0, torch.nonzero(yy == k).flatten());          // (n_k, d)
            count[k] = xk.shape[0];
            if (count[k] == 0) throw new ArgumentException($"Class {k} has no samples.");
            var m = xk.mean([0]);                                                   // (d)
            var centred = xk - m;
            mu.Add(m);
            sigma.Add(centred.T.matmul(centred) / count[k]);                        // (d, d), maximum likelihood
        }
        var cov = torch.stack(sigma);                                               // (C, d, d)
        var prior = torch.tensor(count.Select(c => c / n).ToArray(), device: x.device);
        if (SharedCovariance)
        {
            var shared = (cov * prior.view(-1, 1, 1)).sum(dim: 0);                  // Σ_k (n_k/n) Σ_k
            cov = shared.expand(numClasses, d, d);
        }
        cov = cov + Ridge * torch.eye(d, dtype: float64, device: x.device);
        priors = TensorArrays.Keep(prior);
        means = TensorArrays.Keep(torch.stack(mu));
        covariances = TensorArrays.Keep(cov.contiguous());
        return this;
    }

    /// <summary>log P(C_k | x), shape (samples, C).</summary>
    public Tensor LogPosterior(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        long d = x.shape[1];
        var diff = x.unsqueeze(1) - Means;                                          // (n, C, d)
        var precision = torch.linalg.inv(Covariances);                              // (C, d, d)
        var mahalanobis = torch.einsum("ncd,cde,nce->nc", diff, precision, diff);   // (n, C)
        var (_, logDet) = torch.linalg.slogdet(Covariances);                        // (C)
        var joint = Priors.log() - 0.5 * (mahalanobis + logDet + d * Math.Log(2 * Math.PI)); // (n, C)
        return (joint - joint.logsumexp(1, keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>Posterior probabilities P(C_k | x), shape (samples, C).</summary>
    public Tensor PredictProba(Tensor X)
    {
        using var log = LogPosterior(X);
        return log.exp();
    }

    /// <summary>The most probable class (int64) for each row.</summary>
    public Tensor Predict(Tensor X)
    {
        using var log = LogPosterior(X);
        return log.argmax(1);
    }

    /// <summary>
    /// For two classes with a shared covariance: (w, b) with P(class 1 | x) = σ(w·x + b), where
    /// w = Σ⁻¹(μ_1 − μ_0) and b = −½ μ_1ᵀΣ⁻¹μ_1 + ½ μ_0ᵀΣ⁻¹μ_0 + ln(P(C_1)/P(C_0)).
    /// </summary>
    public (Tensor w, double b) LinearForm()
    {
        if (!SharedCovariance || Means.shape[0] != 2)
            throw new InvalidOperationException("The linear form exists for two classes with a shared covariance.");
        using var scope = torch.NewDisposeScope();
        var precision = torch.linalg.inv(Covariances[0]);                           // (d, d)
        var mu0 = Means[0];
        var mu1 = Means[1];
        var w = precision.matmul(mu1 - mu0);                                        // (d)
        double b = -0.5 * mu1.dot(precision.matmul(mu1)).item<double>() + 0.5 * mu0.dot(precision.matmul(mu0)).item<double>()
                   + Math.Log(Priors[1].item<double>() / Priors[0].item<double>());
        return (w.MoveToOuterDisposeScope(), b);
    }

    private static InvalidOperationException NotFitted() => new("Call Fit before using the classifier.");
}

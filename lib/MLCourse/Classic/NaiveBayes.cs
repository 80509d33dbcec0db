using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// Gaussian naive Bayes (朴素贝叶斯) for continuous features: P(C_i | x) ∝ P(C_i) Π_j N(x_j; μ_ij, σ²_ij), assuming
/// the features independent given the class. Training is counting and averaging: priors are class frequencies,
/// μ and σ² the per-class mean and variance (divide by the class count, the maximum-likelihood estimate).
/// Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class GaussianNaiveBayes
{
    /// <summary>Creates an untrained classifier.</summary>
    /// <param name="varianceSmoothing">Added to every variance, times the largest feature variance, so a feature
    /// that is constant within a class does not divide by zero.</param>
    public GaussianNaiveBayes(double varianceSmoothing = 1e-9) => VarianceSmoothing = varianceSmoothing;

    /// <summary>Relative amount added to the variances.</summary>
    public double VarianceSmoothing { get; }

    private Tensor? priors, means, variances;

    /// <summary>Class priors P(C_i), shape (C).</summary>
    public Tensor Priors => priors ?? throw NotFitted();

    /// <summary>Per-class feature means μ, shape (C, d).</summary>
    public Tensor Means => means ?? throw NotFitted();

    /// <summary>Per-class feature variances σ² (smoothed), shape (C, d).</summary>
    public Tensor Variances => variances ?? throw NotFitted();

    private static InvalidOperationException NotFitted() => new("Call Fit before using the classifier.");

    /// <summary>Estimates priors, means and variances from <paramref name="X"/> (samples, features) and labels <paramref name="y"/> (0..C-1).</summary>
    public GaussianNaiveBayes Fit(Tensor X, Tensor y)
    {
        TensorArrays.CheckSameLength(X, y);
        int numClasses = TensorArrays.NumClasses(TensorArrays.Labels(y));
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        var oneHot = nn.functional.one_hot(y.to(int64), numClasses).to(float64);   // (n, C)
        var counts = oneHot.sum(dim: 0);                                                 // (C)
        if (counts.min().item<double>() == 0) throw new ArgumentException("Every class 0..C-1 needs at least one sample.");
        var mu = oneHot.T.matmul(x) / counts.unsqueeze(1);                          // (C, d)
        var sigma2 = oneHot.T.matmul(x * x) / counts.unsqueeze(1) - mu * mu;        // E[x²] − μ², (C, d)
        double epsilon = VarianceSmoothing * x.var(0L, unbiased: false).max().item<double>();
        priors = TensorArrays.Keep(counts / x.shape[0]);
        means = TensorArrays.Keep(mu);
        variances = TensorArrays.Keep(sigma2.clamp_min(0) + epsilon);
        return this;
    }

    /// <summary>Posterior probabilities P(C_i | x), shape (samples, C), computed in log space for stability.</summary>
    public Tensor PredictProba(Tensor X)
    {
        using var log = LogPosterior(X);
        return log.exp();
    }

    /// <summary>log P(C_i | x), shape (samples, C).</summary>
    public Tensor LogPosterior(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64).unsqueeze(1);                                          // (n, 1, d)
        var logLikelihood = -0.5 * ((x - Means).pow(2) / Variances + (2 * Math.PI * Variances).log()); // (n, C, d)
        var joint = logLikelihood.sum(-1) + Priors.log();                            // (n, C)
        return (joint - joint.logsumexp(1, keepdim: true)).MoveToOuterDisposeScope();
    }

    /// <summary>The most probable class (int64) for each row.</summary>
    public Tensor Predict(Tensor X)
    {
        using var logPosterior = LogPosterior(X);
        return logPosterior.argmax(1);
    }
}

/// <summary>
/// Categorical naive Bayes for discrete features (integer codes, see <see cref="Categorical.Encode"/>), with Laplace
/// (additive) smoothing (拉普拉斯平滑): P(x_j = v | C_i) = (count(x_j = v, C_i) + α) / (count(C_i) + α·V_j), where V_j
/// is the number of values feature j takes. The α·V_j in the denominator keeps the probabilities summing to 1; the
/// notes write "+1" there, which is only right for α = 1 and a single value. Priors P(C_i) are class frequencies.
/// Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class CategoricalNaiveBayes
{
    private double[][][] probability = [];   // [feature][class][value]
    private double[] prior = [];

    /// <summary>Creates an untrained classifier.</summary>
    /// <param name="alpha">Pseudo-count added to every (value, class) count (α = 1 is Laplace smoothing, 0 is none).</param>
    public CategoricalNaiveBayes(double alpha = 1.0)
    {
        if (alpha < 0) throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be ≥ 0.");
        Alpha = alpha;
    }

    /// <summary>The pseudo-count α.</summary>
    public double Alpha { get; }

    /// <summary>Number of classes seen in training.</summary>
    public int NumClasses { get; private set; }

    /// <summary>Counts values per class and turns them into smoothed probabilities.</summary>
    /// <param name="X">Integer codes (samples, features).</param>
    /// <param name="y">Class indices 0..C-1.</param>
    /// <param name="numCategories">Values per feature V_j; null means (largest code seen) + 1.</param>
    public CategoricalNaiveBayes Fit(Tensor X, Tensor y, IReadOnlyList<int>? numCategories = null)
    {
        TensorArrays.CheckSameLength(X, y);
        var rows = TensorArrays.Rows(X).Select(r => r.Select(v => (int)Math.Round(v)).ToArray()).ToArray();
        var labels = TensorArrays.Labels(y);
        NumClasses = TensorArrays.NumClasses(labels);
        int d = rows[0].Length;
        var values = numCategories?.ToArray() ?? Enumerable.Range(0, d).Select(j => rows.Max(r => r[j]) + 1).ToArray();
        var classCount = new long[NumClasses];
        foreach (long c in labels) classCount[c]++;
        prior = classCount.Select(c => (double)c / labels.Length).ToArray();
        probability = new double[d][][];
        for (int j = 0; j < d; j++)
        {
            probability[j] = new double[NumClasses][];
            for (int c = 0; c < NumClasses; c++)
            {
                var counts = new double[values[j]];
                for (int i = 0; i < rows.Length; i++) if (labels[i] == c) counts[rows[i][j]]++;
                double denominator = classCount[c] + Alpha * values[j];
                probability[j][c] = counts.Select(k => denominator == 0 ? 1.0 / values[j] : (k + Alpha) / denominator).ToArray();
            }
        }
        return this;
    }

    /// <summary>The prior P(C = <paramref name="cls"/>).</summary>
    public double Prior(int cls) => prior[cls];

    /// <summary>The smoothed likelihood P(x_<paramref name="feature"/> = <paramref name="value"/> | C = <paramref name="cls"/>).</summary>
    public double Probability(int feature, int value, int cls) => probability[feature][cls][value];

    /// <summary>Posterior probabilities P(C_i | x), shape (samples, C).</summary>
    public Tensor PredictProba(Tensor X)
    {
        var rows = TensorArrays.Rows(X);
        var result = new double[rows.Length * NumClasses];
        for (int i = 0; i < rows.Length; i++)
        {
            var log = new double[NumClasses];
            for (int c = 0; c < NumClasses; c++)
            {
                log[c] = Math.Log(prior[c]);
                for (int j = 0; j < rows[i].Length; j++)
                {
                    int v = (int)Math.Round(rows[i][j]);
                    // a code beyond the V_j values declared at Fit says nothing about the class: skip the feature
                    if (v >= 0 && v < probability[j][c].Length) log[c] += Math.Log(probability[j][c][v]);
                }
            }
            double max = log.Max();
            double norm = log.Sum(l => Math.Exp(l - max));
            for (int c = 0; c < NumClasses; c++) result[i * NumClasses + c] = Math.Exp(log[c] - max) / norm;
        }
        return torch.tensor(result, rows.Length, NumClasses).to(X.device);
    }

    /// <summary>The most probable class (int64) for each row (ties: the smaller index).</summary>
    public Tensor Predict(Tensor X)
    {
        using var proba = PredictProba(X);
        return proba.argmax(1);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// A linear support vector machine (支持向量机): f(x) = w·x + b, trained by full-batch (sub)gradient descent on the
/// soft-margin objective of the lecture, L = (1/N) Σ max(0, 1 − y f(x)) + (λ/2)‖w‖², labels y ∈ {−1, +1}.
/// The subgradient is λw − (1/N) Σ_{y f(x) &lt; 1} y x for w and −(1/N) Σ_{y f(x) &lt; 1} y for b: only points inside
/// the margin pull on the line. The step size decays as lr/√(1 + t/100) so the iterates settle instead of
/// zig-zagging across the kink of the hinge. The margin (间隔) between f = −1 and f = +1 is 2/‖w‖.
/// Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class LinearSvm
{
    private Tensor? weights;
    private readonly List<double> losses = [];
    private long negativeLabel = -1;

    /// <summary>Creates an untrained SVM.</summary>
    /// <param name="lambda">L2 strength λ: larger λ prefers a wider margin over fitting every point.</param>
    /// <param name="lr">Initial step size.</param>
    /// <param name="numEpochs">Full-batch gradient steps.</param>
    /// <param name="supportTolerance">A training point is a support vector when y f(x) ≤ 1 + this.</param>
    public LinearSvm(double lambda = 0.01, double lr = 0.1, int numEpochs = 2000, double supportTolerance = 0.05)
    {
        Lambda = lambda;
        Lr = lr;
        NumEpochs = numEpochs;
        SupportTolerance = supportTolerance;
    }

    /// <summary>L2 strength λ.</summary>
    public double Lambda { get; }

    /// <summary>Initial step size.</summary>
    public double Lr { get; }

    /// <summary>Full-batch gradient steps.</summary>
    public int NumEpochs { get; }

    /// <summary>Slack in the support-vector test y f(x) ≤ 1 + tolerance.</summary>
    public double SupportTolerance { get; }

    /// <summary>The weight vector w, shape (d).</summary>
    public Tensor Weights => weights ?? throw new InvalidOperationException("Call Fit before using the SVM.");

    /// <summary>The bias b.</summary>
    public double Bias { get; private set; }

    /// <summary>Width of the margin between the lines f(x) = −1 and f(x) = +1: 2/‖w‖.</summary>
    public double MarginWidth => 2 / Weights.norm().item<double>();

    /// <summary>Indices of the training points on or inside the margin (y f(x) ≤ 1 + tolerance).</summary>
    public IReadOnlyList<long> SupportVectorIndices { get; private set; } = [];

    /// <summary>The objective L after each epoch.</summary>
    public IReadOnlyList<double> Losses => losses;

    /// <summary>Trains on <paramref name="X"/> (samples, features) and labels <paramref name="y"/> in {−1, +1} or {0, 1} (0 is read as −1).</summary>
    public LinearSvm Fit(Tensor X, Tensor y)
    {
        TensorArrays.CheckSameLength(X, y);
        var labels = TensorArrays.Labels(y);
        if (labels.Any(l => l is not (-1 or 0 or 1)) || (labels.Contains(0) && labels.Contains(-1)))
            throw new ArgumentException("LinearSvm needs two classes labelled −1/+1 or 0/1.");
        negativeLabel = labels.Contains(0) ? 0 : -1;
        losses.Clear();
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        var t = torch.tensor(labels.Select(l => l == 1 ? 1.0 : -1.0).ToArray(), device: x.device); // (n)
        long n = x.shape[0];
        var w = torch.zeros(x.shape[1], dtype: float64, device: x.device);                          // (d)
        double b = 0;
        for (int epoch = 0; epoch < NumEpochs; epoch++)
        {
            using var step = torch.NewDisposeScope();
            var margins = t * (x.matmul(w) + b);                                    // y f(x), (n)
            var active = (margins < 1).to(float64) * t;                             // y where the hinge is active
            var gradW = Lambda * w - x.T.matmul(active) / n;                        // (d)
            double gradB = -active.sum().item<double>() / n;
            double lr = Lr / Math.Sqrt(1 + epoch / 100.0);
            w = (w - lr * gradW).MoveToOuterDisposeScope();
            b -= lr * gradB;
            losses.Add(Objective(x, t, w, b));
        }
        var finalMargins = t * (x.matmul(w) + b);
        SupportVectorIndices = torch.nonzero(finalMargins <= 1 + SupportTolerance).flatten().cpu().data<long>().ToArray();
        weights = TensorArrays.Keep(w);
        Bias = b;
        return this;
    }

    /// <summary>The decision function f(x) = w·x + b for each row (float64, shape (samples)).</summary>
    public Tensor Decision(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        return (X.to(float64).matmul(Weights) + Bias).MoveToOuterDisposeScope();
    }

    /// <summary>The sign of f(x) as a label (int64) in the convention of the training labels (−1/+1 or 0/1).</summary>
    public Tensor Predict(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        var positive = Decision(X) >= 0;
        return torch.where(positive, torch.ones_like(positive, dtype: int64), torch.full_like(positive, negativeLabel, dtype: int64))
            .MoveToOuterDisposeScope();
    }

    private double Objective(Tensor x, Tensor t, Tensor w, double b)
    {
        using var scope = torch.NewDisposeScope();
        var hinge = (1 - t * (x.matmul(w) + b)).clamp_min(0).mean().item<double>();
        return hinge + Lambda / 2 * w.dot(w).item<double>();
    }
}

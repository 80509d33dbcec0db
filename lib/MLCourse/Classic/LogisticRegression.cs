using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// Logistic regression (逻辑回归) trained by full-batch gradient descent on the cross-entropy (交叉熵) loss, with the
/// gradients written out as in the lecture rather than taken from autograd. Two classes: y = σ(w·x + b) is
/// P(class 1 | x) and ∂L/∂w = (1/N) Σ (y − r) x. More classes: softmax(xW + b) and ∂L/∂W = (1/N) Xᵀ(Y − R) with R
/// one-hot. Labels are int64 class indices 0..C-1. Introduced in chapter 02 (classification).
/// </summary>
public sealed class LogisticRegression
{
    private Tensor? weights, bias;
    private readonly List<double> losses = [];

    /// <summary>Creates an untrained model.</summary>
    /// <param name="lr">Learning rate η.</param>
    /// <param name="numEpochs">Full-batch gradient steps.</param>
    /// <param name="weightDecay">L2 penalty (λ/2)‖w‖² added to the loss (0 = none; the bias is not penalised).</param>
    public LogisticRegression(double lr = 0.1, int numEpochs = 1000, double weightDecay = 0)
    {
        Lr = lr;
        NumEpochs = numEpochs;
        WeightDecay = weightDecay;
    }

    /// <summary>Learning rate η.</summary>
    public double Lr { get; }

    /// <summary>Full-batch gradient steps.</summary>
    public int NumEpochs { get; }

    /// <summary>L2 penalty on the weights.</summary>
    public double WeightDecay { get; }

    /// <summary>Number of classes seen in training.</summary>
    public int NumClasses { get; private set; }

    /// <summary>True for two classes (sigmoid), false for softmax.</summary>
    public bool IsBinary => NumClasses == 2;

    /// <summary>Weights: shape (d) for two classes (w of class 1), (d, C) for softmax.</summary>
    public Tensor Weights => weights ?? throw NotFitted();

    /// <summary>Bias: a scalar tensor for two classes, shape (C) for softmax.</summary>
    public Tensor Bias => bias ?? throw NotFitted();

    /// <summary>Mean cross-entropy before each gradient step.</summary>
    public IReadOnlyList<double> Losses => losses;

    /// <summary>Trains on <paramref name="X"/> (samples, features) and labels <paramref name="y"/> (0..C-1, C ≥ 2).</summary>
    public LogisticRegression Fit(Tensor X, Tensor y)
    {
        TensorArrays.CheckSameLength(X, y);
        NumClasses = Math.Max(2, TensorArrays.NumClasses(TensorArrays.Labels(y)));
        losses.Clear();
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        long n = x.shape[0], d = x.shape[1];
        var device = x.device;
        Tensor w, b;
        if (IsBinary)
        {
            var r = y.to(float64, device);                                         // (n), 1 for class 1
            w = torch.zeros(d, dtype: float64, device: device);
            b = torch.zeros([], dtype: float64, device: device);
            for (int epoch = 0; epoch < NumEpochs; epoch++)
            {
                using var step = torch.NewDisposeScope();
                var yHat = torch.sigmoid(x.matmul(w) + b);                         // (n)
                losses.Add(nn.functional.binary_cross_entropy(yHat, r).item<double>() + WeightDecay / 2 * w.dot(w).item<double>());
                var error = yHat - r;                                               // (n)
                var gradW = x.T.matmul(error) / n + WeightDecay * w;                // (d)
                var gradB = error.mean();
                w = (w - Lr * gradW).MoveToOuterDisposeScope();
                b = (b - Lr * gradB).MoveToOuterDisposeScope();
            }
        }
        else
        {
            var R = nn.functional.one_hot(y.to(int64, device), NumClasses).to(float64); // (n, C)
            w = torch.zeros(d, NumClasses, dtype: float64, device: device);
            b = torch.zeros(NumClasses, dtype: float64, device: device);
            for (int epoch = 0; epoch < NumEpochs; epoch++)
            {
                using var step = torch.NewDisposeScope();
                var logits = x.matmul(w) + b;                                       // (n, C)
                var logYHat = nn.functional.log_softmax(logits, 1);
                losses.Add(-(R * logYHat).sum(1).mean().item<double>() + WeightDecay / 2 * w.pow(2).sum().item<double>());
                var error = logYHat.exp() - R;                                      // (n, C)
                var gradW = x.T.matmul(error) / n + WeightDecay * w;                // (d, C)
                var gradB = error.mean([0]);                                        // (C)
                w = (w - Lr * gradW).MoveToOuterDisposeScope();
                b = (b - Lr * gradB).MoveToOuterDisposeScope();
            }
        }
        weights = TensorArrays.Keep(w);
        bias = TensorArrays.Keep(b);
        return this;
    }

    /// <summary>Class probabilities, shape (samples, C); for two classes the columns are 1 − σ(z) and σ(z).</summary>
    public Tensor PredictProba(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        Tensor proba;
        if (IsBinary)
        {
            var p = torch.sigmoid(x.matmul(Weights) + Bias);                        // (n)
            proba = torch.stack([1 - p, p], 1);                                     // (n, 2)
        }
        else
        {
            proba = torch.softmax(x.matmul(Weights) + Bias, 1);                     // (n, C)
        }
        return proba.MoveToOuterDisposeScope();
    }

    /// <summary>The most probable class (int64) for each row.</summary>
    public Tensor Predict(Tensor X)
    {
        using var proba = PredictProba(X);
        return proba.argmax(1);
    }

    private static InvalidOperationException NotFitted() => new("Call Fit before using the model.");
}

using System.Diagnostics;
using MLCourse.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>Loss and (for classification) accuracy of one pass over a data set.</summary>
/// <param name="Loss">Mean loss per sample.</param>
/// <param name="Accuracy">Fraction classified correctly, or null for regression.</param>
public sealed record Evaluation(double Loss, double? Accuracy)
{
    /// <inheritdoc />
    public override string ToString() => Accuracy is { } a ? $"loss {Loss:F4}, accuracy {a:P2}" : $"loss {Loss:F4}";
}

/// <summary>
/// The training loop of the course: forward, loss, backward, step, per mini-batch, with a progress bar and
/// a metric history. It knows nothing about the model and owns the dispose scope of every batch, so notebook
/// code never manages tensor memory by hand. Introduced in chapter 04 (deep learning).
/// </summary>
public sealed class Trainer
{
    private readonly nn.Module<Tensor, Tensor> net;
    private readonly optim.Optimizer optimizer;
    private readonly Func<Tensor, Tensor, Tensor> loss;

    /// <summary>Creates a trainer.</summary>
    /// <param name="net">The model: one tensor in, one tensor out.</param>
    /// <param name="optimizer">Updates the model's parameters.</param>
    /// <param name="loss">Loss of (yHat, y), averaged over the batch (e.g. <c>nn.CrossEntropyLoss()</c>).</param>
    /// <param name="classification">Track accuracy (targets are class indices, outputs are logits).</param>
    public Trainer(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, Func<Tensor, Tensor, Tensor> loss, bool classification = true)
    {
        this.net = net;
        this.optimizer = optimizer;
        this.loss = loss;
        Classification = classification;
    }

    /// <summary>Creates a trainer with a loss module such as <c>nn.CrossEntropyLoss()</c> or <c>nn.MSELoss()</c>.</summary>
    public Trainer(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, nn.Module<Tensor, Tensor, Tensor> loss, bool classification = true)
        : this(net, optimizer, (yHat, y) => loss.call(yHat, y), classification) { }

    /// <summary>Whether accuracy is tracked.</summary>
    public bool Classification { get; }

    /// <summary>Optional learning-rate scheduler stepped once per epoch.</summary>
    public optim.lr_scheduler.LRScheduler? Scheduler { get; init; }

    /// <summary>Everything recorded so far, one row per epoch.</summary>
    public History History { get; } = new();

    /// <summary>Trains for <paramref name="numEpochs"/> epochs and evaluates on <paramref name="validation"/> after each.</summary>
    public History Fit(TensorLoader train, int numEpochs, TensorLoader? validation = null, string description = "training")
    {
        using var bar = new ProgressBar((long)numEpochs * train.Batches, description);
        for (int epoch = 1; epoch <= numEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            net.train();
            double lossSum = 0;
            long correct = 0, seen = 0, batches = 0;
            foreach (var (X, y) in train)
            {
                using var scope = torch.NewDisposeScope();
                var yHat = net.call(X);
                var l = loss(yHat, y);
                optimizer.zero_grad();
                l.backward();
                optimizer.step();
                long n = X.shape[0];
                lossSum += l.item<float>() * n;
                if (Classification) correct += Metrics.Correct(yHat, y);
                seen += n;
                if (++batches % CollectEvery == 0) CollectNativeGarbage();
                bar.Advance(status: $"epoch {epoch}/{numEpochs} loss {lossSum / seen:F4}"
                                    + (Classification ? $" acc {(double)correct / seen:P1}" : ""));
            }
            Scheduler?.step();
            var trainEval = new Evaluation(lossSum / Math.Max(seen, 1), Classification ? (double)correct / Math.Max(seen, 1) : null);
            var validationEval = validation is null ? null : Evaluate(validation);
            History.Add(new EpochStats(History.Count + 1, trainEval, validationEval, clock.Elapsed));
        }
        return History;
    }

    /// <summary>Batches between two young-generation garbage collections (see <see cref="CollectNativeGarbage"/>).</summary>
    internal const int CollectEvery = 100;

    /// <summary>
    /// Objects that own native memory but were never disposed (TorchSharp's native <c>Scalar</c>s made from a
    /// <c>double</c> in an expression like <c>0.5 * x</c>, or by TorchSharp's own optimizers) are freed only by
    /// their finalizers, and a training loop allocates too little managed memory to trigger a collection: the
    /// native heap then grows epoch after epoch. A young-generation collection every <see cref="CollectEvery"/>
    /// batches (well under a millisecond) hands them to the finalizer thread.
    /// </summary>
    private static void CollectNativeGarbage() => GC.Collect(0, GCCollectionMode.Forced, blocking: false);

    /// <summary>Mean loss (and accuracy) over a data set, without gradients, in evaluation mode.</summary>
    public Evaluation Evaluate(TensorLoader data)
    {
        net.eval();
        using var noGrad = torch.no_grad();
        double lossSum = 0;
        long correct = 0, seen = 0;
        foreach (var (X, y) in data)
        {
            using var scope = torch.NewDisposeScope();
            Interactive.ThrowIfInterrupted();
            var yHat = net.call(X);
            long n = X.shape[0];
            lossSum += loss(yHat, y).item<float>() * n;
            if (Classification) correct += Metrics.Correct(yHat, y);
            seen += n;
        }
        return new Evaluation(lossSum / Math.Max(seen, 1), Classification ? (double)correct / Math.Max(seen, 1) : null);
    }
}

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

    /// <summary>
    /// Trains for <paramref name="numEpochs"/> epochs and evaluates on <paramref name="validation"/> after each.
    /// The model and the loaders' tensors must be on one device (<see cref="Course.Device"/>); the running totals stay on
    /// that device too and are read only when the progress bar redraws and at the end of an epoch, so a GPU is not
    /// made to wait for the host after every batch.
    /// </summary>
    public History Fit(TensorLoader train, int numEpochs, TensorLoader? validation = null, string description = "training")
    {
        using var bar = new ProgressBar((long)numEpochs * train.Batches, description);
        for (int epoch = 1; epoch <= numEpochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            net.train();
            using var totals = new RunningTotals(Classification);
            long batches = 0;
            using var data = train.GetEnumerator();
            while (true)
            {
                using var scope = torch.NewDisposeScope();   // opened before the batch is taken, so the batch belongs to it
                if (!data.MoveNext()) break;
                var (X, y) = data.Current;
                if (batches == 0) RequireSameDevice(X);
                var yHat = net.call(X);
                var l = loss(yHat, y);
                optimizer.zero_grad();
                l.backward();
                optimizer.step();
                totals.Add(l, yHat, y);
                if (++batches % CollectEvery == 0) CollectNativeGarbage();
                int shown = epoch;
                bar.Advance(1, () => $"epoch {shown}/{numEpochs} {totals.Status()}");
            }
            Scheduler?.step();
            var trainEval = totals.ToEvaluation();
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

    /// <summary>
    /// Mean loss (and accuracy) over a data set, without gradients, in evaluation mode (dropout off, batch norm on its
    /// running statistics). The model is left in evaluation mode; <see cref="Fit"/> switches back to training mode at
    /// the start of every epoch.
    /// </summary>
    public Evaluation Evaluate(TensorLoader data)
    {
        net.eval();
        using var noGrad = torch.no_grad();
        using var totals = new RunningTotals(Classification);
        using var batches = data.GetEnumerator();
        bool first = true;
        while (true)
        {
            using var scope = torch.NewDisposeScope();       // opened before the batch is taken, so the batch belongs to it
            if (!batches.MoveNext()) break;
            Interactive.ThrowIfInterrupted();
            var (X, y) = batches.Current;
            if (first) RequireSameDevice(X);
            first = false;
            var yHat = net.call(X);
            totals.Add(loss(yHat, y), yHat, y);
        }
        return totals.ToEvaluation();
    }

    /// <summary>
    /// Stops with a clear message when the model's parameters and the batches are on different devices (README,
    /// "Devices"): CUDA would stop at the first layer with a long native message, and some mixes it does not stop at all.
    /// </summary>
    private void RequireSameDevice(Tensor batch)
    {
        var parameter = net.parameters().FirstOrDefault();
        if (parameter is null) return;
        if (parameter.device_type == batch.device_type && parameter.device_index == batch.device_index) return;
        throw new InvalidOperationException(
            $"The model's parameters are on {Describe(parameter.device)} but the batches are on {Describe(batch.device)}: "
            + "put the model on the data's device once, right after building it (net.to(Course.Device), before making its optimizer).");
    }

    private static string Describe(Device device) => device.ToString().ToLowerInvariant();

    /// <summary>
    /// Sums of the loss (weighted by batch size) and of the correct predictions, kept as tensors on the batches' device
    /// and read back only on request. A <c>meta</c> tensor carries no values: read, it gives NaN (the device tests run
    /// the trainer on libtorch's <c>meta</c> device to catch tensors created on the wrong device).
    /// </summary>
    private sealed class RunningTotals(bool classification) : IDisposable
    {
        private Tensor? lossSum, correct;
        private long seen;

        public void Add(Tensor batchLoss, Tensor yHat, Tensor y)
        {
            long n = yHat.shape[0];
            lossSum ??= torch.zeros([], dtype: ScalarType.Float64, device: batchLoss.device).DetachFromDisposeScope();
            using var weight = ((double)n).ToScalar();
            lossSum.add_(batchLoss.detach(), weight);                          // Σ loss·n, on the device
            if (classification)
            {
                correct ??= torch.zeros([], dtype: ScalarType.Int64, device: yHat.device).DetachFromDisposeScope();
                using var hits = yHat.argmax(-1).eq(y).sum();
                correct.add_(hits);
            }
            seen += n;
        }

        public double Loss => lossSum is null ? 0 : Read(lossSum) / seen;

        public double Accuracy => correct is null ? 0 : Read(correct) / seen;

        public string Status() => $"loss {Loss:F4}" + (classification ? $" acc {Accuracy:P1}" : "");

        public Evaluation ToEvaluation() => new(Loss, classification ? Accuracy : null);

        private static double Read(Tensor total) =>
            total.device_type == DeviceType.META ? double.NaN
            : total.dtype == ScalarType.Int64 ? total.item<long>() : total.item<double>();

        public void Dispose()
        {
            lossSum?.Dispose();
            correct?.Dispose();
        }
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) with the same update as <c>torch.optim.Adam</c> (no weight decay, no AMSGrad), written
/// so that a step allocates no native objects that outlive it. TorchSharp 0.107's built-in Adam converts every
/// hyper-parameter to a native <c>Scalar</c> on every step for every parameter (and <c>zero_()</c>, <c>add_(Scalar)</c>
/// leave objects behind too); no dispose scope frees those, only
/// the finalizer does, and since a training loop triggers almost no garbage collections the native heap grows
/// and fragments (see docs/performance.md). Here the constant scalars live as long as the optimizer and the two
/// that change per step are disposed at once. As in PyTorch, each parameter counts its own steps (the bias
/// corrections use the number of updates that parameter has had), and the optimizer has one parameter group, so
/// TorchSharp's learning-rate schedulers (<c>optim.lr_scheduler</c>) drive it. Introduced in chapter 04 (optimisers).
/// </summary>
public sealed class Adam : optim.Optimizer
{
    private readonly Parameter[] trained;
    private readonly Tensor?[] expAvg, expAvgSq;
    private readonly Scalar beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, one, zero;
    private readonly double beta1Value, beta2Value;
    private readonly long[] parameterSteps;
    private readonly ParamGroup group;
    private long steps;

    /// <summary>Creates the optimizer for <paramref name="parameters"/>.</summary>
    /// <param name="parameters">What to train, e.g. <c>net.parameters()</c>.</param>
    /// <param name="lr">Learning rate (step size), 1e-3 as in PyTorch.</param>
    /// <param name="beta1">Decay of the running mean of the gradients.</param>
    /// <param name="beta2">Decay of the running mean of the squared gradients.</param>
    /// <param name="eps">Added to the denominator for numerical stability.</param>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
        : base(IntPtr.Zero)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), "lr must not be negative.");
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "beta1 must be in [0, 1).");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), "beta2 must be in [0, 1).");
        trained = parameters.ToArray();
        expAvg = new Tensor?[trained.Length];
        expAvgSq = new Tensor?[trained.Length];
        parameterSteps = new long[trained.Length];
        group = new ParamGroup { Parameters = trained, Options = new OptimizerOptions { LearningRate = lr, InitialLearningRate = lr } };
        _parameter_groups = [group];
        beta1Value = beta1;
        beta2Value = beta2;
        this.beta1 = beta1.ToScalar();
        oneMinusBeta1 = (1 - beta1).ToScalar();
        this.beta2 = beta2.ToScalar();
        oneMinusBeta2 = (1 - beta2).ToScalar();
        this.eps = eps.ToScalar();
        one = 1.0.ToScalar();
        zero = 0.0.ToScalar();
    }

    /// <summary>The learning rate used by the next step (may be changed between steps, by hand or by a scheduler).</summary>
    public double LearningRate
    {
        get => group.LearningRate;
        set => group.LearningRate = value;
    }

    /// <summary>Number of calls to <see cref="step"/>.</summary>
    public long Steps => steps;

    /// <summary>
    /// Number of updates <paramref name="parameter"/> has had: the steps at which it had a gradient. This t is the one in
    /// the bias corrections 1 − β1ᵗ and 1 − β2ᵗ, per parameter as in <c>torch.optim.Adam</c>'s <c>state["step"]</c>.
    /// Introduced in chapter 04 (optimisers).
    /// </summary>
    public long StepsOf(Parameter parameter)
    {
        int i = Array.FindIndex(trained, p => p.Handle == parameter.Handle);
        if (i < 0) throw new ArgumentException("This optimizer does not update that parameter.", nameof(parameter));
        return parameterSteps[i];
    }

    /// <summary>Sets every parameter's gradient to zero (or drops it).</summary>
    public override void zero_grad()
    {
        foreach (var p in trained)
        {
            using var grad = p.grad;
            if (grad is null) continue;
            grad.detach_();
            grad.fill_(zero);   // not zero_(): in TorchSharp 0.107 it returns a new wrapper and leaves objects to the finalizer
        }
    }

    /// <summary>One Adam update of every parameter that has a gradient.</summary>
    public override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using var enableGrad = torch.enable_grad();
            loss = closure();
        }
        using var noGrad = torch.no_grad();
        steps++;
        for (int i = 0; i < trained.Length; i++)
        {
            var p = trained[i];
            using var grad = p.grad;
            if (grad is null) continue;
            long t = ++parameterSteps[i];                            // this parameter's own step count
            double biasCorrection1 = 1 - Math.Pow(beta1Value, t);
            double biasCorrection2 = 1 - Math.Pow(beta2Value, t);
            using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var minusStepSize = (-LearningRate / biasCorrection1).ToScalar();
            var m = expAvg[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            var v = expAvgSq[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            m.mul_(beta1).add_(grad, oneMinusBeta1);                // m = β1·m + (1 − β1)·g
            v.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);      // v = β2·v + (1 − β2)·g²
            using var denominator = v.sqrt();                        // √v̂ + ε = √v / √(1 − β2ᵗ) + ε
            denominator.div_(sqrtBiasCorrection2).add_(eps, one);   // add_(eps) alone would create a native Scalar for alpha = 1
            p.addcdiv_(m, denominator, minusStepSize);               // p −= lr / (1 − β1ᵗ) · m / (√v̂ + ε)
        }
        return loss!;
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public override IEnumerable<Parameter> parameters() => trained;

    /// <summary>Frees the moment estimates and the native scalars.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in expAvg.Concat(expAvgSq)) t?.Dispose();
            foreach (var s in new[] { beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, one, zero }) s.Dispose();
        }
        base.Dispose(disposing);
    }
}

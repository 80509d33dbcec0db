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
/// and fragments (see docs/performance.md). Here the constant scalars live as long as the optimizer and the few
/// that change per step (AdamW's decay factor among them) are disposed at once. As in PyTorch, each parameter counts
/// its own steps (the bias corrections use the number of updates that parameter has had), and the optimizer has one
/// parameter group, so TorchSharp's learning-rate schedulers (<c>optim.lr_scheduler</c>: <c>StepLR</c>, <c>LambdaLR</c>, …;
/// <c>OneCycleLR</c> and <c>CyclicLR</c> with <c>cycle_momentum: false</c>, as the betas are fixed) drive it. The chapters train
/// with it from chapter 04 on; chapter 05 (training tips, "Which Adam the course trains with") says why not with
/// <c>torch.optim.Adam</c>: its scalars can be freed by the finalizer mid-step, and a long run then fails at random.
/// <para>On a Linux x64 CPU, unless <c>fused: false</c>, the update runs as libtorch's fused Adam kernel
/// (<see cref="FusedAdamKernel"/>, PyTorch 2's <c>fused=True</c>): one pass over each parameter instead of eight tensor
/// operations, 0.14 instead of 0.32–0.44 ms a step for the bench's Fashion-MNIST MLP (784-512-256-10) on the course
/// machine (docs/performance.md). Elsewhere (a GPU, unusual tensors, a libtorch without those kernels) the tensor
/// operations below compute the same update.</para>
/// </summary>
public class Adam : CourseOptimizer
{
    private readonly Tensor?[] expAvg, expAvgSq;
    private readonly Scalar beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps;
    private readonly double beta1Value, beta2Value, epsValue;
    private (Tensor, IntPtr)[]? stepCounts;
    private Tensor?[]? changeMarks;
    private readonly long[] parameterSteps;
    private readonly Flat? flat;
    private long steps;
    private readonly bool fused;
    private readonly double decoupledWeightDecay;   // AdamW's λ; 0 for Adam

    /// <summary>Creates the optimizer for <paramref name="parameters"/>.</summary>
    /// <param name="parameters">What to train, e.g. <c>net.parameters()</c>.</param>
    /// <param name="lr">Learning rate (step size), 1e-3 as in PyTorch.</param>
    /// <param name="beta1">Decay of the running mean of the gradients.</param>
    /// <param name="beta2">Decay of the running mean of the squared gradients.</param>
    /// <param name="eps">Added to the denominator for numerical stability.</param>
    /// <param name="flatten">Move the parameters into one buffer so that a step is a few whole-buffer operations
    /// (<see cref="IsFlat"/>). Off by default: on a CPU it is no faster (docs/performance.md), and the parameters
    /// become views of the buffer, which TorchSharp.PyBridge's <c>save_py</c> writes wrongly (it records a view's
    /// storage offset but only the view's own bytes). Meant for a GPU, where each operation is a kernel launch.</param>
    /// <param name="fused">On a Linux x64 CPU, take each step as libtorch's fused kernel (<see cref="FusedAdamKernel"/>),
    /// as <c>torch.optim.Adam(fused=True)</c> does in PyTorch 2. The same update, rounded differently in the last bits
    /// (a long training run ends a few tenths of a point away); false keeps the eight tensor operations, e.g. to
    /// reproduce figures measured with them.</param>
    public Adam(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                bool flatten = false, bool fused = true)
        : this(parameters, lr, beta1, beta2, eps, flatten, fused, decoupledWeightDecay: 0) { }

    /// <summary><see cref="AdamW"/>'s constructor: <paramref name="decoupledWeightDecay"/> is its λ.</summary>
    private protected Adam(IEnumerable<Parameter> parameters, double lr, double beta1, double beta2, double eps,
                           bool flatten, bool fused, double decoupledWeightDecay)
        : base(parameters, lr)
    {
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "beta1 must be in [0, 1).");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), "beta2 must be in [0, 1).");
        if (decoupledWeightDecay < 0) throw new ArgumentOutOfRangeException("weight_decay", "weight_decay must not be negative.");
        this.decoupledWeightDecay = decoupledWeightDecay;
        expAvg = new Tensor?[Trained.Length];
        expAvgSq = new Tensor?[Trained.Length];
        parameterSteps = new long[Trained.Length];
        beta1Value = beta1;
        beta2Value = beta2;
        epsValue = eps;
        this.beta1 = beta1.ToScalar();
        oneMinusBeta1 = (1 - beta1).ToScalar();
        this.beta2 = beta2.ToScalar();
        oneMinusBeta2 = (1 - beta2).ToScalar();
        this.eps = eps.ToScalar();
        flat = flatten ? Flat.TryCreate(Trained) : null;
        this.fused = fused;
        if (flat is not null)
            for (int i = 0; i < Trained.Length; i++)
                (expAvg[i], expAvgSq[i]) = (flat.View(flat.ExpAvg, i, Trained[i]), flat.View(flat.ExpAvgSq, i, Trained[i]));
    }

    /// <summary>
    /// Whether the parameters live in one flat buffer, so that a step is a handful of whole-buffer operations (see
    /// <see cref="Flat"/>). False when they cannot (mixed devices or dtypes, shared storage) or no longer do (a
    /// parameter was moved or replaced since); the step is then taken parameter by parameter, with the same result.
    /// </summary>
    public bool IsFlat
    {
        get
        {
            using var scope = torch.NewDisposeScope();
            return flat is not null && flat.HoldsParameters(Trained);
        }
    }

    /// <summary>Tests: whether the last <see cref="CourseOptimizer.step"/> (per parameter, not flat) used the fused kernel.</summary>
    internal bool LastStepFused { get; private set; }

    /// <summary>Number of calls to <see cref="CourseOptimizer.step"/>.</summary>
    public long Steps => steps;

    /// <summary>
    /// Number of updates <paramref name="parameter"/> has had: the steps at which it had a gradient. This t is the one in
    /// the bias corrections 1 − β1ᵗ and 1 − β2ᵗ, per parameter as in <c>torch.optim.Adam</c>'s <c>state["step"]</c>.
    /// Introduced in chapter 05 (training tips: Adam's bias correction).
    /// </summary>
    public long StepsOf(Parameter parameter)
    {
        int i = Array.FindIndex(Trained, p => p.Handle == parameter.Handle);
        if (i < 0) throw new ArgumentException("This optimizer does not update that parameter.", nameof(parameter));
        return parameterSteps[i];
    }

    /// <summary>Sets every parameter's gradient to zero: one operation for all of them when they share the flat buffer.</summary>
    public sealed override void zero_grad()
    {
        using (var scope = torch.NewDisposeScope())
            if (flat is not null && flat.HoldsParameters(Trained) && flat.HoldsGradients(Trained))
            {
                flat.Gradients.fill_(Zero);
                return;
            }
        base.zero_grad();
    }

    /// <summary>One Adam update of every parameter that has a gradient.</summary>
    protected sealed override void Update()
    {
        steps++;
        if (TryFlatStep() || TryFusedStep()) return;
        for (int i = 0; i < Trained.Length; i++)
        {
            var p = Trained[i];
            using var grad = p.grad;
            if (grad is null) continue;
            long t = ++parameterSteps[i];                            // this parameter's own step count
            double biasCorrection1 = 1 - Math.Pow(beta1Value, t);
            double biasCorrection2 = 1 - Math.Pow(beta2Value, t);
            using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var minusStepSize = (-LearningRate / biasCorrection1).ToScalar();
            var m = expAvg[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            var v = expAvgSq[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            DecayWeights(p);                                         // AdamW only: p = (1 − lr·λ)·p
            m.mul_(beta1).add_(grad, oneMinusBeta1);                // m = β1·m + (1 − β1)·g
            v.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);      // v = β2·v + (1 − β2)·g²
            using var denominator = v.sqrt();                        // √v̂ + ε = √v / √(1 − β2ᵗ) + ε
            denominator.div_(sqrtBiasCorrection2).add_(eps, One);   // add_(eps) alone would create a native Scalar for alpha = 1
            p.addcdiv_(m, denominator, minusStepSize);               // p −= lr / (1 − β1ᵗ) · m / (√v̂ + ε)
        }
    }

    /// <summary>
    /// The update of <see cref="CourseOptimizer.step"/> as libtorch's fused kernel (<see cref="FusedAdamKernel"/>): one pass over each
    /// parameter instead of eight tensor operations. Taken when <c>fused</c> is true, the kernel is available and every
    /// parameter with a gradient, the gradient and the moments are contiguous CPU tensors of 32- or 64-bit floats (the
    /// usual case on a CPU); false otherwise, with nothing changed. On a GPU the tensor operations run as they are (the kernel's CUDA
    /// variant is not in the CPU build the course is tested with).
    /// </summary>
    private bool TryFusedStep()
    {
        LastStepFused = false;
        if (!fused || !FusedAdamKernel.Available(decoupledWeightDecay)) return false;
        var grads = new Tensor?[Trained.Length];
        try
        {
            // First check every parameter with a gradient, so that a fallback leaves nothing changed.
            var taken = new List<int>(Trained.Length);
            for (int i = 0; i < Trained.Length; i++)
            {
                var p = Trained[i];
                var grad = grads[i] = p.grad;
                if (grad is null) continue;
                if (p.device_type != DeviceType.CPU || p.dtype is not (ScalarType.Float32 or ScalarType.Float64)
                    || grad.device_type != DeviceType.CPU || grad.dtype != p.dtype || grad.is_sparse
                    || !p.is_contiguous() || !grad.is_contiguous() || grad.numel() != p.numel()   // (not .shape: it leaves an object to the finalizer)
                    || expAvg[i] is { } m && (!m.is_contiguous() || m.numel() != p.numel())    // the kernel writes p.numel() values
                    || expAvgSq[i] is { } v && (!v.is_contiguous() || v.numel() != p.numel()))
                    return false;
                taken.Add(i);
            }
            if (taken.Count > 0)
                FusedAdamKernel.Step(
                    taken.Select(i => (Tensor)Trained[i]).ToArray(),
                    taken.Select(i => grads[i]!).ToArray(),
                    taken.Select(i => expAvg[i] ??= torch.zeros_like(Trained[i]).DetachFromDisposeScope()).ToArray(),
                    taken.Select(i => expAvgSq[i] ??= torch.zeros_like(Trained[i]).DetachFromDisposeScope()).ToArray(),
                    taken.Select(i => StepCount(i, ++parameterSteps[i])).ToArray(),   // each parameter's own step count t
                    LearningRate, beta1Value, beta2Value, epsValue, decoupledWeightDecay);
            foreach (int i in taken) MarkChanged(i);
            return LastStepFused = true;
        }
        finally
        {
            foreach (var grad in grads) grad?.Dispose();
        }
    }

    /// <summary>
    /// Tells autograd that parameter <paramref name="i"/> changed, as an in-place tensor operation does: the kernel
    /// bypasses libtorch's version counter, so a graph recorded before the step that still needs the old values would
    /// otherwise compute its gradients from the new ones instead of failing ("modified by an inplace operation").
    /// An in-place operation on an empty view of the parameter moves its counter and touches no values.
    /// </summary>
    private void MarkChanged(int i)
    {
        changeMarks ??= new Tensor?[Trained.Length];
        changeMarks[i] ??= Trained[i].view(-1).narrow(0, 0, 0).DetachFromDisposeScope();
        changeMarks[i]!.fill_(Zero);
    }

    /// <summary>Parameter <paramref name="i"/>'s step count as the 0-dimensional tensor the fused kernel reads, set to <paramref name="t"/>.</summary>
    private unsafe Tensor StepCount(int i, long t)
    {
        stepCounts ??= new (Tensor, IntPtr)[Trained.Length];
        if (stepCounts[i].Item1 is null)
        {
            var count = torch.zeros([], dtype: ScalarType.Float64).DetachFromDisposeScope();
            stepCounts[i] = (count, count.storage<double>().data_ptr());
        }
        *(double*)stepCounts[i].Item2 = t;                                     // a CPU tensor's own memory; no native call
        return stepCounts[i].Item1;
    }

    /// <summary>
    /// The update of <see cref="CourseOptimizer.step"/> on the flat buffers, when every parameter still lives in its slice, has a
    /// gradient and has had as many updates as the others (the usual case); false otherwise, with nothing changed.
    /// </summary>
    private bool TryFlatStep()
    {
        if (flat is null) return false;
        using (var scope = torch.NewDisposeScope())
        {
            if (!flat.HoldsParameters(Trained) || !flat.AdoptGradients(Trained)) return false;
        }
        long t = parameterSteps[0] + 1;
        for (int i = 1; i < parameterSteps.Length; i++)
            if (parameterSteps[i] != t - 1) return false;
        for (int i = 0; i < parameterSteps.Length; i++) parameterSteps[i] = t;
        double biasCorrection1 = 1 - Math.Pow(beta1Value, t);
        double biasCorrection2 = 1 - Math.Pow(beta2Value, t);
        var (p, grad, m, v) = (flat.Parameters, flat.Gradients, flat.ExpAvg, flat.ExpAvgSq);
        if (fused && FusedAdamKernel.Available(decoupledWeightDecay) && p.device_type == DeviceType.CPU)
        {
            FusedAdamKernel.Step([p], [grad], [m], [v], [StepCount(0, t)], LearningRate, beta1Value, beta2Value, epsValue,
                                 decoupledWeightDecay);
            for (int i = 0; i < Trained.Length; i++) MarkChanged(i);
            return true;
        }
        using var sqrtBiasCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
        using var minusStepSize = (-LearningRate / biasCorrection1).ToScalar();
        DecayWeights(p);
        m.mul_(beta1).add_(grad, oneMinusBeta1);
        v.mul_(beta2).addcmul_(grad, grad, oneMinusBeta2);
        using var denominator = v.sqrt();
        denominator.div_(sqrtBiasCorrection2).add_(eps, One);
        p.addcdiv_(m, denominator, minusStepSize);
        return true;
    }

    /// <summary>AdamW's decoupled weight decay, p ← (1 − lr·λ)·p, before the moments are updated, as
    /// <c>torch.optim.AdamW</c> does; nothing for Adam.</summary>
    private void DecayWeights(Tensor p)
    {
        if (decoupledWeightDecay == 0) return;
        using var factor = (1 - LearningRate * decoupledWeightDecay).ToScalar();
        p.mul_(factor);
    }

    /// <summary>Frees the moment estimates and the native scalars.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in expAvg.Concat(expAvgSq)) t?.Dispose();
            foreach (var (count, _) in stepCounts ?? []) count?.Dispose();
            foreach (var mark in changeMarks ?? []) mark?.Dispose();
            flat?.Dispose();
            foreach (var s in new[] { beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps }) s.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>
    /// One contiguous buffer each for the parameters, their gradients and the two moment estimates, every parameter
    /// (and its gradient) a view of its slice. An Adam step is then eight operations on whole buffers instead of eight
    /// per parameter: for a small network most of the time of a per-parameter step goes to launching tiny kernels
    /// (what PyTorch's <c>foreach</c> and <c>fused</c> Adam save too). The module keeps its own <c>Parameter</c>
    /// objects; only their storage moves (<c>set_</c>, as PyTorch's <c>flatten_parameters</c> does for RNN weights).
    /// Autograd adds each new gradient into the existing gradient tensor, so once the gradients are views of the
    /// flat buffer they stay there, as long as nothing sets them to null.
    /// </summary>
    private sealed class Flat : IDisposable
    {
        public required Tensor Parameters { get; init; }
        public required Tensor Gradients { get; init; }
        public required Tensor ExpAvg { get; init; }
        public required Tensor ExpAvgSq { get; init; }
        private long[] offsets = [];
        private long[] sizes = [];
        private IntPtr parametersBase, gradientsBase;

        /// <summary>Moves the parameters into one buffer, or returns null when they do not fit one (devices, dtypes, shared storage).</summary>
        public static Flat? TryCreate(Parameter[] parameters)
        {
            if (parameters.Length < 2) return null;
            var first = parameters[0];
            if (first.dtype is not (ScalarType.Float32 or ScalarType.Float64)) return null;
            if (parameters.Any(p => p.dtype != first.dtype || p.device_type != first.device_type || p.device_index != first.device_index || p.is_sparse || !p.requires_grad)) return null;
            using var scope = torch.NewDisposeScope();
            var bases = parameters.Select(p => DataPointer(p)).ToArray();
            if (bases.Distinct().Count() != bases.Length) return null;   // shared or tied storage: keep them apart
            long total = parameters.Sum(p => p.numel());
            var flat = new Flat
            {
                Parameters = torch.empty(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope(),
                Gradients = torch.zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope(),
                ExpAvg = torch.zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope(),
                ExpAvgSq = torch.zeros(total, dtype: first.dtype, device: first.device).DetachFromDisposeScope(),
                offsets = new long[parameters.Length],
                sizes = parameters.Select(p => p.numel()).ToArray(),
            };
            using (torch.no_grad())
            {
                long offset = 0;
                for (int i = 0; i < parameters.Length; i++)
                {
                    flat.offsets[i] = offset;
                    var slice = flat.Parameters.narrow(0, offset, flat.sizes[i]).view(parameters[i].shape);
                    slice.copy_(parameters[i]);
                    parameters[i].set_(slice);
                    offset += flat.sizes[i];
                }
            }
            flat.parametersBase = DataPointer(flat.Parameters);
            flat.gradientsBase = DataPointer(flat.Gradients);
            return flat;
        }

        /// <summary>Parameter <paramref name="i"/>'s slice of <paramref name="buffer"/>, shaped like it (outside any dispose scope).</summary>
        public Tensor View(Tensor buffer, int i, Parameter like) =>
            buffer.narrow(0, offsets[i], sizes[i]).view(like.shape).DetachFromDisposeScope();

        /// <summary>Whether every parameter is still its slice of the buffer (a move to another device or a <c>set_</c> breaks that).</summary>
        public bool HoldsParameters(Parameter[] parameters)
        {
            for (int i = 0; i < parameters.Length; i++)
                if (!IsSlice(parameters[i], parametersBase, i)) return false;
            return true;
        }

        /// <summary>Whether every parameter's gradient exists and is its slice of the gradient buffer.</summary>
        public bool HoldsGradients(Parameter[] parameters)
        {
            for (int i = 0; i < parameters.Length; i++)
            {
                var grad = parameters[i].grad;
                if (grad is null || !IsSlice(grad, gradientsBase, i)) return false;
            }
            return true;
        }

        /// <summary>
        /// Makes every gradient a view of its slice (copying the values of one that autograd created elsewhere, e.g.
        /// the first backward after construction); false, with nothing changed, when some parameter has no gradient.
        /// </summary>
        public bool AdoptGradients(Parameter[] parameters)
        {
            var grads = parameters.Select(p => p.grad).ToArray();
            if (grads.Any(g => g is null)) return false;
            for (int i = 0; i < parameters.Length; i++)
            {
                if (IsSlice(grads[i]!, gradientsBase, i)) continue;
                var slice = Gradients.narrow(0, offsets[i], sizes[i]).view(parameters[i].shape);
                slice.copy_(grads[i]!);
                parameters[i].grad = slice;
            }
            return true;
        }

        private bool IsSlice(Tensor t, IntPtr bufferBase, int i) =>
            t.is_contiguous() && t.storage_offset() == offsets[i] && DataPointer(t) == bufferBase;

        /// <summary>The start of <paramref name="t"/>'s storage (not of its first element).</summary>
        private static IntPtr DataPointer(Tensor t) => t.dtype == ScalarType.Float64
            ? t.storage<double>().data_ptr()
            : t.storage<float>().data_ptr();

        public void Dispose()
        {
            foreach (var t in new[] { Parameters, Gradients, ExpAvg, ExpAvgSq }) t.Dispose();
        }
    }
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter, 2019): <see cref="Adam"/> with decoupled weight decay, the same update as
/// <c>torch.optim.AdamW</c>: before each step every parameter shrinks by the factor 1 − lr·λ, outside the moment
/// estimates (Adam's L2 penalty would instead be divided by √v̂ like the gradient). On a Linux x64 CPU, unless
/// <c>fused: false</c>, the step runs as libtorch's fused AdamW kernel. Used from chapter 10 (GPT pre-training,
/// fine-tuning); defined in chapter 05 ("Which Adam the course trains with"). Its argument <c>weight_decay</c> keeps
/// PyTorch's name rather than .NET casing, so that calls read as <c>optim.AdamW</c>'s do.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer for <paramref name="parameters"/>; the arguments are <see cref="Adam"/>'s plus λ.</summary>
    /// <param name="parameters">What to train, e.g. <c>net.parameters()</c>.</param>
    /// <param name="lr">Learning rate (step size), 1e-3 as in PyTorch.</param>
    /// <param name="beta1">Decay of the running mean of the gradients.</param>
    /// <param name="beta2">Decay of the running mean of the squared gradients.</param>
    /// <param name="eps">Added to the denominator for numerical stability.</param>
    /// <param name="weight_decay">λ, 0.01 as in PyTorch (TorchSharp 0.107's <c>optim.AdamW</c> defaults to 0); named as
    /// there, so that <c>optim.AdamW</c>'s calls read the same.</param>
    /// <param name="flatten">As for <see cref="Adam"/>.</param>
    /// <param name="fused">As for <see cref="Adam"/>: false keeps the tensor operations, bit for bit <c>torch.optim.AdamW</c>'s.</param>
    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
                 double weight_decay = 0.01, bool flatten = false, bool fused = true)
        : base(parameters, lr, beta1, beta2, eps, flatten, fused, weight_decay) { }
}

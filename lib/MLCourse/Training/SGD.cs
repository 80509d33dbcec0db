using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>
/// Stochastic gradient descent with momentum, the same update as <c>torch.optim.SGD</c> and bit for bit TorchSharp's:
/// with momentum μ, the buffer b = g at the first step and b = μ·b + (1 − dampening)·g after it, and p ← p − lr·b
/// (p ← p − lr·(g + μ·b) with Nesterov momentum); weight decay adds λ·p to the gradient first. TorchSharp 0.107's SGD
/// makes a native <c>Scalar</c> for each hyper-parameter on every step and leaves it to the finalizer, which can free
/// it while libtorch still reads it (chapter 05); here the scalars that do not change live as long as the optimizer,
/// and the step size, which a schedule may change, is made and disposed once per step. One parameter group, whose
/// learning rate is read at every step: setting it through <c>ParamGroups</c> or <see cref="CourseOptimizer.LearningRate"/>, or a
/// scheduler such as <c>StepLR</c>, <c>ExponentialLR</c> or <c>LambdaLR</c>, drives it. <c>OneCycleLR</c> and
/// <c>CyclicLR</c> need <c>cycle_momentum: false</c>: the momentum is fixed (no <c>IMomentum</c>). Introduced in
/// chapter 05 (training tips: batch size).
/// </summary>
public sealed class SGD : CourseOptimizer
{
    private readonly Tensor?[] buffers;
    private readonly Scalar momentumScalar, oneMinusDampening;
    private readonly double momentum;
    private readonly bool nesterov;

    /// <summary>Creates the optimizer for <paramref name="parameters"/>, with <c>torch.optim.SGD</c>'s arguments.</summary>
    /// <param name="parameters">What to train, e.g. <c>net.parameters()</c>.</param>
    /// <param name="lr">Learning rate (step size).</param>
    /// <param name="momentum">μ, the weight of the previous steps in the buffer; 0 is plain SGD.</param>
    /// <param name="dampening">How much less of the new gradient goes into the buffer after the first step.</param>
    /// <param name="weight_decay">λ of an L2 penalty, added to the gradient as λ·p (named as in PyTorch).</param>
    /// <param name="nesterov">Nesterov momentum: step along g + μ·b instead of b.</param>
    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0,
               bool nesterov = false)
        : base(parameters, lr, weight_decay)
    {
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), "momentum must not be negative.");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException("Nesterov momentum needs a momentum and no dampening.", nameof(nesterov));
        buffers = new Tensor?[Trained.Length];
        (this.momentum, this.nesterov) = (momentum, nesterov);
        momentumScalar = momentum.ToScalar();
        oneMinusDampening = (1 - dampening).ToScalar();
    }

    /// <summary>One step of every parameter that has a gradient.</summary>
    protected override void Update()
    {
        using var minusLearningRate = (-LearningRate).ToScalar();
        ForEachGradient((i, p, g) =>
        {
            using var nesterovDirection = Momentum(i, g);
            p.add_(nesterovDirection ?? (momentum != 0 ? buffers[i]! : g), minusLearningRate);
        });
    }

    /// <summary>Updates parameter <paramref name="i"/>'s momentum buffer with <paramref name="g"/>; returns g + μ·b for
    /// Nesterov momentum (to dispose), null otherwise.</summary>
    private Tensor? Momentum(int i, Tensor g)
    {
        if (momentum == 0) return null;
        if (buffers[i] is not { } buffer)
            buffers[i] = g.clone().DetachFromDisposeScope();   // under no_grad: no graph to detach from
        else
            buffer.mul_(momentumScalar).add_(g, oneMinusDampening);
        return nesterov ? g.add(buffers[i]!, momentumScalar) : null;
    }

    /// <summary>Frees the momentum buffers and the native scalars.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var b in buffers) b?.Dispose();
            foreach (var s in new[] { momentumScalar, oneMinusDampening }) s.Dispose();
        }
        base.Dispose(disposing);
    }
}

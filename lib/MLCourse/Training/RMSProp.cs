using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>
/// RMSProp (Hinton's lecture notes, 2012), the same update as PyTorch's <c>torch.optim.RMSprop</c> and bit for bit
/// TorchSharp's <c>optim.RMSProp</c>: every parameter keeps a moving average v = α·v + (1 − α)·g² of its squared
/// gradients and steps by lr·g / (√v + ε); <c>centered</c> divides by √(v − ḡ²) + ε instead, with ḡ = α·ḡ + (1 −
/// α)·g; momentum μ keeps a buffer b = μ·b + g / (√v + ε) and steps by lr·b; weight decay adds λ·p to the gradient.
/// Chapter 05 writes it by hand; the course trains with this class rather than TorchSharp's, which makes a native
/// <c>Scalar</c> for each hyper-parameter on every step that the finalizer can free while libtorch still reads it
/// (chapter 05, "Which Adam the course trains with"). Chapter 11's exercise 2 (a WGAN critic with weight clipping)
/// asks for it. The learning rate is read at every step (<c>ParamGroups</c>, <see
/// cref="CourseOptimizer.LearningRate"/>, <c>StepLR</c>, <c>LambdaLR</c>, …; <c>OneCycleLR</c> and <c>CyclicLR</c>
/// need <c>cycle_momentum: false</c>).
/// </summary>
public sealed class RMSProp : CourseOptimizer
{
    private readonly Tensor?[] squareAverages, gradientAverages, buffers;
    private readonly Scalar alpha, oneMinusAlpha, eps, momentumScalar, minusOne;
    private readonly double momentum;
    private readonly bool centered;

    /// <summary>Creates the optimizer for <paramref name="parameters"/>, with <c>torch.optim.RMSprop</c>'s arguments.</summary>
    /// <param name="parameters">What to train, e.g. <c>net.parameters()</c>.</param>
    /// <param name="lr">Learning rate, 1e-2 as in PyTorch.</param>
    /// <param name="alpha">Decay of the moving average of the squared gradients.</param>
    /// <param name="eps">Added to √v for numerical stability.</param>
    /// <param name="weight_decay">λ of an L2 penalty, added to the gradient as λ·p (named as in PyTorch).</param>
    /// <param name="momentum">μ; 0 steps by the scaled gradient itself.</param>
    /// <param name="centered">Divide by an estimate of the gradient's standard deviation instead of its root mean square.</param>
    public RMSProp(IEnumerable<Parameter> parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weight_decay = 0,
                   double momentum = 0, bool centered = false)
        : base(parameters, lr, weight_decay)
    {
        if (alpha is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(alpha), "alpha must be in [0, 1].");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), "eps must not be negative.");
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), "momentum must not be negative.");
        squareAverages = new Tensor?[Trained.Length];
        gradientAverages = new Tensor?[Trained.Length];
        buffers = new Tensor?[Trained.Length];
        (this.momentum, this.centered) = (momentum, centered);
        this.alpha = alpha.ToScalar();
        oneMinusAlpha = (1 - alpha).ToScalar();
        this.eps = eps.ToScalar();
        momentumScalar = momentum.ToScalar();
        minusOne = (-1.0).ToScalar();
    }

    /// <summary>One step of every parameter that has a gradient.</summary>
    protected override void Update()
    {
        using var minusLearningRate = (-LearningRate).ToScalar();
        ForEachGradient((i, p, g) =>
        {
            var v = squareAverages[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
            v.mul_(alpha).addcmul_(g, g, oneMinusAlpha);                                      // v = α·v + (1 − α)·g²
            using var denominator = Denominator(i, g, v);                                     // √v + ε (centred: √(v − ḡ²) + ε)
            if (momentum > 0)
            {
                var b = buffers[i] ??= torch.zeros_like(p).DetachFromDisposeScope();
                b.mul_(momentumScalar).addcdiv_(g, denominator, One);                         // b = μ·b + g / (√v + ε)
                p.add_(b, minusLearningRate);
            }
            else
                p.addcdiv_(g, denominator, minusLearningRate);                                // p −= lr · g / (√v + ε)
        });
    }

    /// <summary>√v + ε, or with <c>centered</c> √(v − ḡ²) + ε after updating the moving average ḡ of the gradients.</summary>
    private Tensor Denominator(int i, Tensor g, Tensor v)
    {
        if (!centered) return v.sqrt().add_(eps, One);
        var average = gradientAverages[i] ??= torch.zeros_like(Trained[i]).DetachFromDisposeScope();
        average.mul_(alpha).add_(g, oneMinusAlpha);
        return v.addcmul(average, average, minusOne).sqrt_().add_(eps, One);
    }

    /// <summary>Frees the moving averages, the momentum buffers and the native scalars.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var t in squareAverages.Concat(gradientAverages).Concat(buffers)) t?.Dispose();
            foreach (var s in new[] { alpha, oneMinusAlpha, eps, momentumScalar, minusOne }) s.Dispose();
        }
        base.Dispose(disposing);
    }
}

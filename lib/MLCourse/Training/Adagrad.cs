using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>
/// Adagrad (Duchi et al., 2011), the same update as <c>torch.optim.Adagrad</c> and bit for bit TorchSharp's: every
/// parameter keeps the sum s of its squared gradients and steps by lr·g / (√s + ε), with lr / (1 + (t − 1)·lr_decay)
/// at its t-th update; weight decay adds λ·p to the gradient first. Chapter 05 writes it by hand and says why the
/// course does not train with TorchSharp's optimizers: they make a native <c>Scalar</c> for each hyper-parameter on
/// every step, which the finalizer can free while libtorch still reads it. Here the fixed scalars live as long as the
/// optimizer and the step size is made and disposed once per parameter and step. One parameter group, whose learning
/// rate is read at every step: setting it through <c>ParamGroups</c> or <see cref="CourseOptimizer.LearningRate"/>, or a scheduler such as
/// <c>StepLR</c>, <c>ExponentialLR</c> or <c>LambdaLR</c>, drives it (<c>OneCycleLR</c> and <c>CyclicLR</c> need
/// <c>cycle_momentum: false</c>: there is no momentum to cycle). Introduced in chapter 21 (word2vec).
/// </summary>
public sealed class Adagrad : CourseOptimizer
{
    private readonly Tensor?[] sums;
    private readonly long[] parameterSteps;
    private readonly Scalar eps, initialAccumulator;
    private readonly double learningRateDecay;

    /// <summary>Creates the optimizer for <paramref name="parameters"/>, with <c>torch.optim.Adagrad</c>'s arguments.</summary>
    /// <param name="parameters">What to train, e.g. <c>net.parameters()</c>.</param>
    /// <param name="lr">Learning rate, 1e-2 as in PyTorch.</param>
    /// <param name="lr_decay">Shrinks the rate to lr / (1 + (t − 1)·lr_decay) at a parameter's t-th update.</param>
    /// <param name="weight_decay">λ of an L2 penalty, added to the gradient as λ·p.</param>
    /// <param name="initial_accumulator_value">Where every sum of squared gradients starts.</param>
    /// <param name="eps">Added to √s for numerical stability.</param>
    public Adagrad(IEnumerable<Parameter> parameters, double lr = 1e-2, double lr_decay = 0, double weight_decay = 0,
                   double initial_accumulator_value = 0, double eps = 1e-10)
        : base(parameters, lr, weight_decay)
    {
        if (lr_decay < 0) throw new ArgumentOutOfRangeException(nameof(lr_decay), "lr_decay must not be negative.");
        if (initial_accumulator_value < 0)
            throw new ArgumentOutOfRangeException(nameof(initial_accumulator_value), "initial_accumulator_value must not be negative.");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), "eps must not be negative.");
        sums = new Tensor?[Trained.Length];
        parameterSteps = new long[Trained.Length];
        learningRateDecay = lr_decay;
        this.eps = eps.ToScalar();
        initialAccumulator = initial_accumulator_value.ToScalar();
    }

    /// <summary>One step of every parameter that has a gradient.</summary>
    protected override void Update()
    {
        ForEachGradient((i, p, g) =>
        {
            long t = ++parameterSteps[i];
            var sum = sums[i] ??= torch.full_like(p, initialAccumulator).DetachFromDisposeScope();
            using var minusRate = (-(LearningRate / (1 + (t - 1) * learningRateDecay))).ToScalar();
            sum.addcmul_(g, g, One);                                  // s = s + g²
            using var denominator = sum.sqrt();
            denominator.add_(eps, One);                               // √s + ε (add_(eps) alone would make a Scalar for alpha = 1)
            p.addcdiv_(g, denominator, minusRate);                    // p −= lr_t · g / (√s + ε)
        });
    }

    /// <summary>Frees the sums and the native scalars.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            foreach (var s in sums) s?.Dispose();
            foreach (var s in new[] { eps, initialAccumulator }) s.Dispose();
        }
        base.Dispose(disposing);
    }
}

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>
/// What the course's <see cref="Adam"/>, <see cref="AdamW"/>, <see cref="SGD"/>, <see cref="Adagrad"/> and
/// <see cref="RMSProp"/> share: one parameter group whose learning rate is read
/// at every step (so <c>ParamGroups</c>, <see cref="LearningRate"/> and TorchSharp's schedulers drive it), gradients
/// zeroed without leaving objects to the finalizer, and a step that runs the closure (if any) with gradients on and
/// the update under <c>no_grad</c>. The subclasses hold their native scalars for their lifetime (chapter 05 says why).
/// </summary>
public abstract class CourseOptimizer : optim.Optimizer
{
    private readonly ParamGroup group;
    // Made after the checks of lr and weight_decay; a subclass that refuses its own arguments leaves them to the
    // finalizer, harmlessly (no libtorch call reads them then).
    private readonly Scalar? l2;

    /// <summary>0 and 1 as native scalars, for every subclass (<c>fill_(Zero)</c>, <c>add_(eps, One)</c>).</summary>
    private protected Scalar Zero { get; }

    /// <summary>See <see cref="Zero"/>.</summary>
    private protected Scalar One { get; }

    /// <summary>The parameters this optimizer updates, in the order given.</summary>
    protected Parameter[] Trained { get; }

    /// <summary>Takes <paramref name="parameters"/> as one group with learning rate <paramref name="lr"/>;
    /// <paramref name="weightDecay"/> is the λ of an L2 penalty that <see cref="ForEachGradient"/> adds to each gradient as
    /// λ·p (SGD, Adagrad, RMSProp; not AdamW's decoupled decay).</summary>
    protected CourseOptimizer(IEnumerable<Parameter> parameters, double lr, double weightDecay = 0)
        : base(IntPtr.Zero)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), "lr must not be negative.");
        if (weightDecay < 0) throw new ArgumentOutOfRangeException("weight_decay", "weight_decay must not be negative.");
        Trained = parameters.ToArray();
        Zero = 0.0.ToScalar();
        One = 1.0.ToScalar();
        l2 = weightDecay != 0 ? weightDecay.ToScalar() : null;
        group = new ParamGroup { Parameters = Trained, Options = new OptimizerOptions { LearningRate = lr, InitialLearningRate = lr } };
        _parameter_groups = [group];
    }

    /// <summary>The learning rate used by the next step (may be changed between steps, by hand or by a scheduler).</summary>
    public double LearningRate
    {
        get => group.LearningRate;
        set => group.LearningRate = value;
    }

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public override void zero_grad()
    {
        foreach (var p in Trained)
        {
            using var grad = p.grad;
            if (grad is null) continue;
            if (grad.requires_grad) grad.detach_();   // as torch.optim: only a gradient that is part of a graph
            grad.fill_(Zero);   // not zero_(): in TorchSharp 0.107 it returns a new wrapper and leaves objects to the finalizer
        }
    }

    /// <summary>One step of every parameter that has a gradient; returns the closure's loss, if a closure is given.</summary>
    public sealed override Tensor step(Func<Tensor>? closure = null)
    {
        Tensor? loss = null;
        if (closure is not null)
        {
            using var enableGrad = torch.enable_grad();
            loss = closure();
        }
        using var noGrad = torch.no_grad();
        Update();
        return loss!;
    }

    /// <summary>The update of every parameter in <see cref="Trained"/> that has a gradient (called under <c>no_grad</c>).</summary>
    protected abstract void Update();

    /// <summary>
    /// Calls <paramref name="update"/>(i, p, g) for every parameter p = <see cref="Trained"/>[i] that has a gradient, with
    /// g = its gradient, plus λ·p when the constructor was given a weight decay λ (an L2 penalty, as in TorchSharp's SGD,
    /// Adagrad and RMSProp); g is disposed afterwards.
    /// </summary>
    protected void ForEachGradient(Action<int, Parameter, Tensor> update)
    {
        for (int i = 0; i < Trained.Length; i++)
        {
            var p = Trained[i];
            using var grad = p.grad;
            if (grad is null) continue;
            using var decayed = l2 is null ? null : grad.add(p, l2);   // g + λ·p
            update(i, p, decayed ?? grad);
        }
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public sealed override IEnumerable<Parameter> parameters() => Trained;

    /// <summary>Frees the shared native scalars (subclasses free their own state, then call this).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Zero.Dispose();
            One.Dispose();
            l2?.Dispose();
        }
        base.Dispose(disposing);
    }
}

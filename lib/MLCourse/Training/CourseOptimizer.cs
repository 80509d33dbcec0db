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
    // Made after the check of lr; a subclass that refuses its own arguments leaves it to the finalizer, harmlessly
    // (no libtorch call reads it then).
    private readonly Scalar zero;

    /// <summary>The parameters this optimizer updates, in the order given.</summary>
    protected Parameter[] Trained { get; }

    /// <summary>Takes <paramref name="parameters"/> as one group with learning rate <paramref name="lr"/>.</summary>
    protected CourseOptimizer(IEnumerable<Parameter> parameters, double lr)
        : base(IntPtr.Zero)
    {
        if (lr < 0) throw new ArgumentOutOfRangeException(nameof(lr), "lr must not be negative.");
        Trained = parameters.ToArray();
        zero = 0.0.ToScalar();
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
            grad.fill_(zero);   // not zero_(): in TorchSharp 0.107 it returns a new wrapper and leaves objects to the finalizer
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
    /// g = its gradient, plus λ·p when <paramref name="weightDecay"/> (λ, an L2 penalty as in TorchSharp's SGD, Adagrad and
    /// RMSProp) is given; g is disposed afterwards.
    /// </summary>
    protected void ForEachGradient(Scalar? weightDecay, Action<int, Parameter, Tensor> update)
    {
        for (int i = 0; i < Trained.Length; i++)
        {
            var p = Trained[i];
            using var grad = p.grad;
            if (grad is null) continue;
            using var decayed = weightDecay is null ? null : grad.add(p, weightDecay);   // g + λ·p
            update(i, p, decayed ?? grad);
        }
    }

    /// <summary>The parameters this optimizer updates.</summary>
    public sealed override IEnumerable<Parameter> parameters() => Trained;

    /// <summary>Frees the shared native scalar (subclasses free their own state, then call this).</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing) zero.Dispose();
        base.Dispose(disposing);
    }
}

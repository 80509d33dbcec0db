using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Training;

/// <summary>Metrics that compare predictions with targets. Introduced in chapter 02 (classification).</summary>
public static class Metrics
{
    /// <summary>Fraction of rows whose arg-max logit equals the integer label.</summary>
    public static double Accuracy(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        return logits.argmax(-1).eq(labels).to(ScalarType.Float64).mean().item<double>();
    }

    /// <summary>Number of rows whose arg-max logit equals the integer label.</summary>
    public static long Correct(Tensor logits, Tensor labels)
    {
        using var scope = torch.NewDisposeScope();
        return logits.argmax(-1).eq(labels).sum().item<long>();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Compression;

/// <summary>
/// Knowledge distillation (知识蒸馏): a small student learns from the softened output distribution of a large
/// teacher, softmax(logits / T), which also says which wrong classes look alike ("dark knowledge", 暗知识).
/// Introduced in chapter 18 (network compression).
/// </summary>
public static class Distillation
{
    /// <summary>softmax(logits / T) over the last dimension: T = 1 is the usual softmax, larger T is flatter.</summary>
    public static Tensor SoftTargets(Tensor logits, double temperature)
    {
        using var scaled = logits / temperature;
        return torch.nn.functional.softmax(scaled, -1);
    }

    /// <summary>
    /// The distillation loss of Hinton et al. (2015), averaged over the batch:
    /// α·T²·KL(softmax(teacher/T) ‖ softmax(student/T)) + (1 − α)·CE(student, labels).
    /// The factor T² keeps the size of the soft-target gradients comparable across temperatures.
    /// </summary>
    /// <param name="studentLogits">(B, C) logits of the student (with gradients).</param>
    /// <param name="teacherLogits">(B, C) logits of the teacher (treated as constants).</param>
    /// <param name="labels">(B,) integer class labels.</param>
    /// <param name="temperature">T ≥ 1 softens both distributions.</param>
    /// <param name="alpha">Weight of the soft-target term (1: teacher only, 0: labels only).</param>
    public static Tensor Loss(Tensor studentLogits, Tensor teacherLogits, Tensor labels, double temperature = 4, double alpha = 0.9)
    {
        using var scope = torch.NewDisposeScope();
        var logP = torch.nn.functional.log_softmax(studentLogits / temperature, -1);            // (B, C) student, log
        var logQ = torch.nn.functional.log_softmax(teacherLogits.detach() / temperature, -1);   // (B, C) teacher, log
        var kl = (logQ.exp() * (logQ - logP)).sum(-1).mean();                                   // KL(teacher ‖ student)
        var ce = torch.nn.functional.cross_entropy(studentLogits, labels);
        return (alpha * temperature * temperature * kl + (1 - alpha) * ce).MoveToOuterDisposeScope();
    }
}

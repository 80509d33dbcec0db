using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// Conversions between tensors and managed arrays shared by the classic algorithms (trees and votes are
/// clearer as loops over arrays), plus the rule for tensors a fitted model keeps.
/// </summary>
internal static class TensorArrays
{
    /// <summary>Rows of a 2-D tensor as doubles.</summary>
    public static double[][] Rows(Tensor X)
    {
        if (X.dim() != 2) throw new ArgumentException($"X must be 2-D (samples, features), not of shape [{string.Join(", ", X.shape)}].");
        using var cpu = X.detach().to(ScalarType.Float64, torch.CPU).contiguous();
        var flat = cpu.data<double>().ToArray();
        int n = (int)X.shape[0], d = (int)X.shape[1];
        var rows = new double[n][];
        for (int i = 0; i < n; i++) rows[i] = flat.AsSpan(i * d, d).ToArray();
        return rows;
    }

    /// <summary>A 1-D tensor of class labels as longs.</summary>
    public static long[] Labels(Tensor y)
    {
        if (y.dim() != 1) throw new ArgumentException($"y must be 1-D (one label per sample), not of shape [{string.Join(", ", y.shape)}].");
        using var cpu = y.detach().to(ScalarType.Int64, torch.CPU).contiguous();
        return cpu.data<long>().ToArray();
    }

    /// <summary>Checks that labels are 0..C-1 and returns C.</summary>
    public static int NumClasses(long[] labels)
    {
        if (labels.Length == 0) throw new ArgumentException("y is empty.");
        if (labels.Min() < 0) throw new ArgumentException("Class labels must be 0, 1, …, C-1 (found a negative label).");
        return (int)labels.Max() + 1;
    }

    /// <summary>
    /// A copy of <paramref name="t"/> that a fitted model keeps: detached from autograd and from any dispose
    /// scope, so the caller's scope (or disposing the original) cannot free it.
    /// </summary>
    public static Tensor Keep(Tensor t) => t.detach().clone().DetachFromDisposeScope();

    /// <summary>Labels as an int64 tensor on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(long[] labels, Device device) => torch.tensor(labels, device: device);

    /// <summary>Throws when X and y disagree on the number of samples.</summary>
    public static void CheckSameLength(Tensor X, Tensor y)
    {
        if (X.shape[0] != y.shape[0]) throw new ArgumentException($"X has {X.shape[0]} samples but y has {y.shape[0]}.");
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Compression;

/// <summary>
/// Network pruning (网络剪枝): set the least important weights to zero. Importance here is the magnitude |w|
/// (the simplest criterion of the lecture). A mask is a 0/1 tensor of the weight's shape; keep applying it
/// after every optimiser step while fine-tuning so that pruned weights stay zero. Introduced in chapter 18
/// (network compression).
/// </summary>
public static class Prune
{
    /// <summary>
    /// A 0/1 mask that zeroes the fraction <paramref name="sparsity"/> of <paramref name="weight"/> with the
    /// smallest magnitude (exactly round(sparsity·numel) entries; ties broken arbitrarily).
    /// </summary>
    public static Tensor ByMagnitude(Tensor weight, double sparsity)
    {
        if (sparsity is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(sparsity), "sparsity must be in [0, 1]");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var flat = weight.detach().abs().flatten();                                  // (numel,)
        long keep = flat.numel() - (long)Math.Round(sparsity * flat.numel());
        var mask = torch.zeros_like(flat);
        if (keep > 0)
        {
            var (_, indices) = flat.topk((int)keep);                                 // the largest |w|
            mask.index_fill_(0, indices, 1.0);
        }
        return mask.reshape(weight.shape).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Masks for every weight matrix or kernel (parameters with two or more dimensions; biases are left alone) of
    /// <paramref name="net"/>, each layer pruned to the same <paramref name="sparsity"/>. Keyed by parameter name.
    /// </summary>
    public static Dictionary<string, Tensor> ByMagnitude(nn.Module net, double sparsity) =>
        net.named_parameters().Where(p => p.parameter.dim() >= 2)
           .ToDictionary(p => p.name, p => ByMagnitude(p.parameter, sparsity));

    /// <summary>Multiplies each parameter named in <paramref name="masks"/> by its mask, in place.</summary>
    public static void Apply(nn.Module net, IReadOnlyDictionary<string, Tensor> masks)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in net.named_parameters())
            if (masks.TryGetValue(name, out var mask)) parameter.mul_(mask);
    }

    /// <summary>Fraction of exactly-zero entries among the parameters with two or more dimensions (the weights).</summary>
    public static double Sparsity(nn.Module net)
    {
        long zeros = 0, total = 0;
        foreach (var (_, parameter) in net.named_parameters())
        {
            if (parameter.dim() < 2) continue;
            using var isZero = parameter.detach().eq(0);
            using var count = isZero.sum();
            zeros += count.item<long>();
            total += parameter.numel();
        }
        return total == 0 ? 0 : (double)zeros / total;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Compression;

/// <summary>
/// Parameter quantization (参数量化): store each weight with a few bits. <see cref="Uniform"/> is uniform, per-tensor,
/// min-max (affine) quantisation: 2^bits evenly spaced levels from the tensor's minimum to its maximum, each weight
/// rounded to the nearest level. Introduced in chapter 18 (network compression).
/// </summary>
public static class Quantize
{
    /// <summary>
    /// The weights rounded to 2^<paramref name="bits"/> evenly spaced levels between min and max of
    /// <paramref name="weight"/>, returned as floats ("fake quantisation": what the network computes with after
    /// quantising and de-quantising). The rounding error of every entry is at most half a step, (max − min) / (2^bits − 1) / 2.
    /// </summary>
    public static Tensor Uniform(Tensor weight, int bits)
    {
        if (bits is < 1 or > 16) throw new ArgumentOutOfRangeException(nameof(bits), "bits must be in 1..16");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var w = weight.detach();
        double min = w.min().item<float>(), max = w.max().item<float>();
        if (max == min) return w.clone().MoveToOuterDisposeScope();
        double step = (max - min) / ((1 << bits) - 1);
        var codes = ((w - min) / step).round();                                     // integers 0 .. 2^bits − 1
        return (codes * step + min).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Quantises every weight matrix or kernel (parameters with two or more dimensions) of <paramref name="net"/> in
    /// place with <see cref="Uniform"/>; biases stay in 32-bit floats.
    /// </summary>
    public static void Weights(nn.Module net, int bits)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, parameter) in net.named_parameters())
        {
            if (parameter.dim() < 2) continue;
            using var q = Uniform(parameter, bits);
            parameter.copy_(q);
        }
    }

    /// <summary>
    /// Bytes needed to store <paramref name="net"/> with its weights at <paramref name="bits"/> bits (plus two 32-bit
    /// floats, min and step, per weight tensor) and its other parameters (biases) at 32 bits.
    /// </summary>
    public static long SizeInBytes(nn.Module net, int bits)
    {
        long totalBits = 0;
        foreach (var (_, parameter) in net.named_parameters())
            totalBits += parameter.dim() >= 2 ? parameter.numel() * bits + 64 : parameter.numel() * 32;
        return (totalBits + 7) / 8;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of an <see cref="AutoEncoder"/>. Introduced in chapter 12 (auto-encoders).</summary>
/// <param name="InputSize">Pixels per image after flattening (784 for 28×28).</param>
/// <param name="HiddenSizes">Widths of the encoder's hidden layers, input side first; the decoder mirrors them.</param>
/// <param name="LatentSize">Width of the bottleneck (瓶颈), the code z.</param>
public sealed record AutoEncoderConfig(int InputSize = 784, int[]? HiddenSizes = null, int LatentSize = 2)
{
    /// <summary>The hidden widths (256, 64 when none are given).</summary>
    public int[] Hidden => HiddenSizes ?? [256, 64];

    /// <summary>Trainable parameters of the model this config builds (encoder and decoder).</summary>
    public long ParameterCount()
    {
        var widths = new List<int> { InputSize };
        widths.AddRange(Hidden);
        widths.Add(LatentSize);
        long count = 0;
        for (int i = 0; i + 1 < widths.Count; i++)
            count += (long)widths[i] * widths[i + 1] + widths[i + 1]     // encoder layer i
                   + (long)widths[i + 1] * widths[i] + widths[i];        // its mirror in the decoder
        return count;
    }
}

/// <summary>
/// An auto-encoder (自编码器): an MLP encoder squeezes a flattened image into a small code z (the bottleneck), an MLP
/// decoder mirrors it back to pixel logits, and a sigmoid gives pixels in 0..1. Trained to reproduce its input
/// (reconstruction error), it learns a nonlinear dimension reduction (降维); a linear one with a squared error would
/// find the PCA subspace. Hidden layers use ReLU; the code itself is linear. Introduced in chapter 12 (auto-encoders).
/// </summary>
public sealed class AutoEncoder : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> decoder;

    /// <summary>Builds the auto-encoder described by <paramref name="config"/>.</summary>
    public AutoEncoder(AutoEncoderConfig? config = null) : base("AutoEncoder")
    {
        Config = config ??= new AutoEncoderConfig();
        var widths = new List<int> { config.InputSize };
        widths.AddRange(config.Hidden);
        widths.Add(config.LatentSize);
        encoder = Stack(widths);
        widths.Reverse();
        decoder = Stack(widths);
        RegisterComponents();
    }

    /// <summary>Linear layers between consecutive <paramref name="widths"/>, with ReLU between them (not after the last).</summary>
    internal static nn.Module<Tensor, Tensor> Stack(IReadOnlyList<int> widths)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i + 1 < widths.Count; i++)
        {
            layers.Add(($"{layers.Count}", nn.Linear(widths[i], widths[i + 1])));
            if (i + 2 < widths.Count) layers.Add(($"{layers.Count}", nn.ReLU()));
        }
        return nn.Sequential(layers);
    }

    /// <summary>The hyper-parameters.</summary>
    public AutoEncoderConfig Config { get; }

    /// <summary>The codes z (B, LatentSize) of images (B, …) with InputSize values each.</summary>
    public Tensor Encode(Tensor images)
    {
        using var flat = images.flatten(1);                    // (B, InputSize)
        return encoder.call(flat);
    }

    /// <summary>Pixel values in 0..1, shape (B, InputSize), decoded from codes z (B, LatentSize).</summary>
    public Tensor Decode(Tensor z)
    {
        using var logits = decoder.call(z);                    // (B, InputSize)
        return torch.sigmoid(logits);
    }

    /// <summary>Reconstructions of images (B, …), with the same shape as the input and values in 0..1.</summary>
    public override Tensor forward(Tensor images)
    {
        using var z = Encode(images);                          // (B, LatentSize)
        using var pixels = Decode(z);                          // (B, InputSize)
        return pixels.view(images.shape);                      // (B, …) as the input
    }
}

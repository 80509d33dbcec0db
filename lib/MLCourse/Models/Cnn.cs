using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of a <see cref="Cnn"/>. Introduced in chapter 06 (CNN).</summary>
/// <param name="InChannels">Channels of the input images (1 for MNIST and Fashion-MNIST).</param>
/// <param name="ImageSize">Height = width of the input images (28 for MNIST).</param>
/// <param name="Channels">Output channels of each 3×3 convolution block (each block halves the image with a 2×2 max pool).</param>
/// <param name="Hidden">Width of the fully connected layer after the convolutions (0: none, straight to the classes).</param>
/// <param name="Classes">Outputs (logits).</param>
/// <param name="BatchNorm">Batch normalization after each convolution (chapter 05).</param>
/// <param name="Dropout">Dropout probability before the last layer (0: none).</param>
public sealed record CnnConfig(int InChannels = 1, int ImageSize = 28, int[]? Channels = null, int Hidden = 128,
                               int Classes = 10, bool BatchNorm = false, double Dropout = 0)
{
    /// <summary>The convolution widths (32, 64 when none are given).</summary>
    public int[] Blocks => Channels ?? [32, 64];

    /// <summary>Height = width of the feature maps after the last pooling.</summary>
    public int FinalSize => Blocks.Aggregate(ImageSize, (size, _) => size / 2);

    /// <summary>Number of trainable parameters of the model this config builds.</summary>
    public long ParameterCount()
    {
        long count = 0;
        int inC = InChannels;
        foreach (int outC in Blocks)
        {
            count += (long)inC * outC * 9 + outC + (BatchNorm ? 2L * outC : 0);
            inC = outC;
        }
        long flat = (long)inC * FinalSize * FinalSize;
        return Hidden > 0 ? count + flat * Hidden + Hidden + (long)Hidden * Classes + Classes
                          : count + flat * Classes + Classes;
    }
}

/// <summary>
/// A small convolutional network (卷积神经网络): per block a 3×3 convolution (padding 1) → (batch norm) → 2×2 max
/// pooling → ReLU (the same as the ReLU before the pooling; see below), then flatten → fully connected → ReLU →
/// (dropout) → classes. The default is the course's MNIST CNN,
/// conv32-pool-conv64-pool-fc128-fc10 (421,642 parameters). <see cref="Features"/> exposes the feature maps for
/// chapters that look inside (filters, saliency, domain adaptation). Introduced in chapter 06 (CNN).
/// <para>Each block applies the pooling before the ReLU. The two commute — the largest of four values clipped at zero
/// is the largest of the four clipped values — and the gradient reaches the same element either way, so the outputs
/// and gradients are those of conv → ReLU → pool (tested), while the ReLU and its backward touch a quarter of the
/// values: about 15 % less time per training step of the course CNN on the course machine (docs/performance.md).</para>
/// </summary>
public sealed class Cnn : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> features;
    private readonly nn.Module<Tensor, Tensor> classifier;

    /// <summary>Builds the network described by <paramref name="config"/> with PyTorch's default initialisation.</summary>
    public Cnn(CnnConfig? config = null) : base("Cnn")
    {
        Config = config ??= new CnnConfig();
        var blocks = new List<(string, nn.Module<Tensor, Tensor>)>();
        int inC = config.InChannels, index = 0;
        foreach (int outC in config.Blocks)
        {
            blocks.Add(($"{index++}", nn.Conv2d(inC, outC, 3, padding: 1)));
            if (config.BatchNorm) blocks.Add(($"{index++}", nn.BatchNorm2d(outC)));
            blocks.Add(($"{index++}", nn.MaxPool2d(2)));   // pooling before the ReLU: see the class summary
            blocks.Add(($"{index++}", nn.ReLU()));
            inC = outC;
        }
        features = nn.Sequential(blocks);

        int flat = inC * config.FinalSize * config.FinalSize;
        var head = new List<(string, nn.Module<Tensor, Tensor>)> { ("0", nn.Flatten()) };
        if (config.Hidden > 0)
        {
            head.Add(("1", nn.Linear(flat, config.Hidden)));
            head.Add(("2", nn.ReLU()));
            if (config.Dropout > 0) head.Add(("3", nn.Dropout(config.Dropout)));
            head.Add(("4", nn.Linear(config.Hidden, config.Classes)));
        }
        else
        {
            if (config.Dropout > 0) head.Add(("3", nn.Dropout(config.Dropout)));
            head.Add(("4", nn.Linear(flat, config.Classes)));
        }
        classifier = nn.Sequential(head);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public CnnConfig Config { get; }

    /// <summary>The feature maps (B, last channels, FinalSize, FinalSize) of images (B, InChannels, ImageSize, ImageSize).</summary>
    public Tensor Features(Tensor images) => features.call(images);

    /// <summary>
    /// Logits (B, Classes) of images (B, InChannels, ImageSize, ImageSize), or logits (Classes) of one unbatched image
    /// (InChannels, ImageSize, ImageSize), as PyTorch's layers treat unbatched inputs. The convolutions run on a
    /// channels-last copy of the batch (see <see cref="ChannelsLast"/>): the same numbers, about 28 % less time per
    /// training step on the course machine.
    /// </summary>
    public override Tensor forward(Tensor images)
    {
        if (images.dim() == 3)
        {
            using var batch = images.unsqueeze(0);                                         // (1, C, H, W)
            using var logits = forward(batch);                                             // (1, Classes)
            return logits.squeeze(0);                                                      // (Classes)
        }
        if (images.dim() != 4)
            throw new ArgumentException($"Cnn wants images (B, C, H, W) or one image (C, H, W), not [{string.Join(", ", images.shape)}].", nameof(images));
        using var input = ChannelsLast(images);
        using var maps = features.call(input);
        return classifier.call(maps);
    }

    /// <summary>
    /// The same images (B, C, H, W) stored channels-last (strides C·H·W, 1, W·C, C: the C values of a pixel side by
    /// side). libtorch picks its convolution kernels from the input's strides, and the channels-last kernels skip the
    /// layout conversions the default (B, C, H, W) order costs on CPUs; TorchSharp has no <c>memory_format</c> argument,
    /// so the strides are set by hand. Gradients flow through unchanged.
    /// </summary>
    public static Tensor ChannelsLast(Tensor images)
    {
        if (images.dim() != 4) throw new ArgumentException($"ChannelsLast wants (B, C, H, W) images, not [{string.Join(", ", images.shape)}].", nameof(images));
        long b = images.shape[0], c = images.shape[1], h = images.shape[2], w = images.shape[3];
        if (c == 1)
        {
            // One channel: both orders hold the same bytes, but libtorch reads the layout from the strides.
            using var pixels = images.reshape(b, h, w, 1);
            return pixels.permute(0, 3, 1, 2);
        }
        using var pixelsLast = images.permute(0, 2, 3, 1);
        using var packed = pixelsLast.contiguous();
        return packed.permute(0, 3, 1, 2);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of a DCGAN-style <see cref="GanGenerator"/> and <see cref="GanDiscriminator"/> for 28×28
/// grey images. Introduced in chapter 11 (GAN).</summary>
/// <param name="LatentSize">Length of the noise vector z the generator starts from.</param>
/// <param name="Width">Channels of the 14×14 feature maps; the 7×7 maps have twice as many.</param>
/// <param name="Classes">Number of classes for a conditional GAN (条件生成对抗网络); 0 for an unconditional one.</param>
public sealed record GanConfig(int LatentSize = 64, int Width = 32, int Classes = 0)
{
    /// <summary>Named presets the chapter uses.</summary>
    public static IReadOnlyDictionary<string, GanConfig> Presets { get; } = new Dictionary<string, GanConfig>
    {
        ["mnist"] = new(LatentSize: 64, Width: 32),
        ["mnist-conditional"] = new(LatentSize: 64, Width: 32, Classes: 10),
        ["tiny"] = new(LatentSize: 16, Width: 8),
    };

    /// <summary>Trainable parameters of the generator this config builds.</summary>
    public long GeneratorParameterCount()
    {
        long w = Width, w2 = 2L * Width, input = LatentSize + Classes;
        return input * w2 * 49 + w2 * 49         // project: Linear(z ⊕ label → 2W·7·7)
             + 2 * w2                            // batch norm γ, β
             + w2 * w * 16 + w                   // ConvTranspose2d(2W → W, 4×4)
             + 2 * w                             // batch norm γ, β
             + w * 16 + 1;                       // ConvTranspose2d(W → 1, 4×4)
    }

    /// <summary>Trainable parameters of the discriminator this config builds.</summary>
    public long DiscriminatorParameterCount()
    {
        long w = Width, w2 = 2L * Width, inC = 1 + Classes;
        return inC * w * 16 + w                  // Conv2d(1 + classes → W, 4×4)
             + w * w2 * 16 + w2                  // Conv2d(W → 2W, 4×4)
             + w2 * 49 + 1                       // Linear(2W·7·7 → 1)
             + Classes * w2 * 49;                // Embedding(classes → 2W·7·7), the label projection
    }
}

/// <summary>
/// The generator (生成器) of a DCGAN (深度卷积生成对抗网络) for 28×28 images: a noise vector z (and, for a conditional GAN,
/// the one-hot class) → linear → (2W, 7, 7) → batch norm → ReLU → transposed convolution (反卷积) to (W, 14, 14) → batch
/// norm → ReLU → transposed convolution to (1, 28, 28) → sigmoid, so pixels lie in 0..1 like the MNIST tensors.
/// Introduced in chapter 11 (GAN).
/// </summary>
public sealed class GanGenerator : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> project;
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly nn.Module<Tensor, Tensor> up1;
    private readonly nn.Module<Tensor, Tensor> norm2;
    private readonly nn.Module<Tensor, Tensor> up2;

    /// <summary>Builds the generator described by <paramref name="config"/>.</summary>
    public GanGenerator(GanConfig? config = null) : base("GanGenerator")
    {
        Config = config ??= new GanConfig();
        int w = config.Width;
        project = nn.Linear(config.LatentSize + config.Classes, 2 * w * 7 * 7);
        norm1 = nn.BatchNorm2d(2 * w);
        up1 = nn.ConvTranspose2d(2 * w, w, 4, stride: 2, padding: 1);     // 7 → 14
        norm2 = nn.BatchNorm2d(w);
        up2 = nn.ConvTranspose2d(w, 1, 4, stride: 2, padding: 1);         // 14 → 28
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public GanConfig Config { get; }

    /// <summary>Standard normal noise (n, LatentSize) on <paramref name="device"/>, by default the generator's own device.</summary>
    public Tensor SampleLatent(long n, Device? device = null) =>
        torch.randn(n, Config.LatentSize, device: device ?? parameters().First().device);

    /// <summary>Images (B, 1, 28, 28) from noise z (B, LatentSize) of an unconditional GAN.</summary>
    public override Tensor forward(Tensor z)
    {
        if (Config.Classes > 0) throw new InvalidOperationException("A conditional generator needs labels: call Generate(z, labels).");
        return Decode(z);
    }

    /// <summary>Images (B, 1, 28, 28) of the classes <paramref name="labels"/> (B) from noise z (B, LatentSize).</summary>
    public Tensor Generate(Tensor z, Tensor labels)
    {
        if (Config.Classes == 0) throw new InvalidOperationException("This generator is unconditional: call it with z only.");
        using var oneHot = nn.functional.one_hot(labels, Config.Classes).to(z.dtype);   // (B, classes)
        using var input = torch.cat([z, oneHot], 1);                                      // (B, latent + classes)
        return Decode(input);
    }

    private Tensor Decode(Tensor input)
    {
        using var flat = project.call(input);                                             // (B, 2W·49)
        using var maps = flat.view(-1, 2 * Config.Width, 7, 7);                          // (B, 2W, 7, 7)
        using var a = nn.functional.relu(norm1.call(maps));
        using var b = up1.call(a);                                                        // (B, W, 14, 14)
        using var c = nn.functional.relu(norm2.call(b));
        using var logits = up2.call(c);                                                   // (B, 1, 28, 28)
        return torch.sigmoid(logits);
    }
}

/// <summary>
/// The discriminator (判别器) of a DCGAN for 28×28 images: two 4×4 convolutions with stride 2 (28 → 14 → 7) and leaky
/// ReLUs, then a linear layer to one logit: large for "real", small for "generated". For a conditional GAN the class
/// enters twice, so the discriminator judges "a real image of this class": as extra constant input channels (one-hot),
/// and as a projection (Miyato &amp; Koyama, 2018): the logit gains ⟨e_y, h⟩, the dot product of a learned embedding of
/// the class with the image's features h. With the channels alone, the chapter's conditional GAN still ignored the
/// label after an epoch; chapter 11 shows the difference the projection makes.
/// Introduced in chapter 11 (GAN).
/// </summary>
public sealed class GanDiscriminator : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> conv1;
    private readonly nn.Module<Tensor, Tensor> conv2;
    private readonly nn.Module<Tensor, Tensor> head;
    private readonly TorchSharp.Modules.Embedding? classEmbedding;

    /// <summary>Builds the discriminator described by <paramref name="config"/>.</summary>
    public GanDiscriminator(GanConfig? config = null) : base("GanDiscriminator")
    {
        Config = config ??= new GanConfig();
        int w = config.Width;
        conv1 = nn.Conv2d(1 + config.Classes, w, 4, stride: 2, padding: 1);   // 28 → 14
        conv2 = nn.Conv2d(w, 2 * w, 4, stride: 2, padding: 1);                // 14 → 7
        head = nn.Linear(2 * w * 7 * 7, 1);
        if (config.Classes > 0) classEmbedding = nn.Embedding(config.Classes, 2 * w * 7 * 7);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public GanConfig Config { get; }

    /// <summary>Logits (B) of images (B, 1, 28, 28) for an unconditional GAN; σ(logit) is D(x), the probability of "real".</summary>
    public override Tensor forward(Tensor images)
    {
        if (Config.Classes > 0) throw new InvalidOperationException("A conditional discriminator needs labels: call Judge(images, labels).");
        using var features = Features(images);
        using var logit = head.call(features);                                                    // (B, 1)
        return logit.squeeze(1);                                                                  // (B)
    }

    /// <summary>Logits (B) of images (B, 1, 28, 28) paired with classes <paramref name="labels"/> (B).</summary>
    public Tensor Judge(Tensor images, Tensor labels)
    {
        if (Config.Classes == 0) throw new InvalidOperationException("This discriminator is unconditional: call it with images only.");
        long n = images.shape[0];
        using var oneHot = nn.functional.one_hot(labels, Config.Classes).to(images.dtype);       // (B, classes)
        using var planes = oneHot.view(n, Config.Classes, 1, 1).expand(n, Config.Classes, 28, 28); // (B, classes, 28, 28)
        using var input = torch.cat([images, planes], 1);                                         // (B, 1 + classes, 28, 28)
        using var features = Features(input);                                                     // (B, 2W·49)
        using var logit = head.call(features);                                                    // (B, 1)
        using var embedded = classEmbedding!.call(labels);                                        // (B, 2W·49)
        using var projection = (embedded * features).sum(1);                                      // (B) ⟨e_y, h⟩
        return logit.squeeze(1) + projection;                                                     // (B)
    }

    private Tensor Features(Tensor input)
    {
        using var a = nn.functional.leaky_relu(conv1.call(input), 0.2);                           // (B, W, 14, 14)
        using var b = nn.functional.leaky_relu(conv2.call(a), 0.2);                               // (B, 2W, 7, 7)
        return b.flatten(1);                                                                      // (B, 2W·49)
    }
}

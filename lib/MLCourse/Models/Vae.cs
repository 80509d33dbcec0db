using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of a <see cref="Vae"/>. Introduced in chapter 12 (auto-encoders).</summary>
/// <param name="InputSize">Pixels per image after flattening (784 for 28×28).</param>
/// <param name="HiddenSizes">Widths of the encoder's hidden layers, input side first; the decoder mirrors them.</param>
/// <param name="LatentSize">Dimension of the latent variable z.</param>
public sealed record VaeConfig(int InputSize = 784, int[]? HiddenSizes = null, int LatentSize = 2)
{
    /// <summary>The hidden widths (256, 128 when none are given).</summary>
    public int[] Hidden => HiddenSizes ?? [256, 128];

    /// <summary>Trainable parameters of the model this config builds.</summary>
    public long ParameterCount()
    {
        var widths = new List<int> { InputSize };
        widths.AddRange(Hidden);
        long count = 0;
        for (int i = 0; i + 1 < widths.Count; i++)
            count += 2L * widths[i] * widths[i + 1] + widths[i + 1] + widths[i];   // an encoder layer and its decoder mirror
        long last = widths[^1];
        return count + 2 * (last * LatentSize + LatentSize)                        // mean and log-variance heads
                     + (long)LatentSize * last + last;                             // decoder input layer
    }
}

/// <summary>
/// A variational auto-encoder (变分自编码器, VAE). The encoder maps an image x to a Gaussian q(z|x) = N(μ, diag σ²) and
/// outputs μ and log σ²; a code is drawn with the reparameterisation trick (重参数化技巧) z = μ + σ·ε, ε ~ N(0, I), so
/// gradients flow through μ and σ; the decoder maps z to Bernoulli pixel logits. Training maximises the evidence lower
/// bound (证据下界, ELBO) E_q[log p(x|z)] − KL(q(z|x) ‖ N(0, I)); <see cref="KlDivergence"/> is the KL term in closed
/// form. Introduced in chapter 12 (auto-encoders).
/// </summary>
public sealed class Vae : nn.Module<Tensor, (Tensor Logits, Tensor Mean, Tensor LogVariance)>
{
    private readonly nn.Module<Tensor, Tensor> encoder;
    private readonly nn.Module<Tensor, Tensor> mean;
    private readonly nn.Module<Tensor, Tensor> logVariance;
    private readonly nn.Module<Tensor, Tensor> decoder;

    /// <summary>Builds the VAE described by <paramref name="config"/>.</summary>
    public Vae(VaeConfig? config = null) : base("Vae")
    {
        Config = config ??= new VaeConfig();
        var widths = new List<int> { config.InputSize };
        widths.AddRange(config.Hidden);
        encoder = nn.Sequential(AutoEncoder.Stack(widths), nn.ReLU());
        mean = nn.Linear(widths[^1], config.LatentSize);
        logVariance = nn.Linear(widths[^1], config.LatentSize);
        widths.Add(config.LatentSize);
        widths.Reverse();
        decoder = AutoEncoder.Stack(widths);
        RegisterComponents();
    }

    /// <summary>The hyper-parameters.</summary>
    public VaeConfig Config { get; }

    /// <summary>μ and log σ² of q(z|x), each (B, LatentSize), for images (B, …) with InputSize values each.</summary>
    public (Tensor Mean, Tensor LogVariance) Encode(Tensor images)
    {
        using var flat = images.flatten(1);                            // (B, InputSize)
        using var h = encoder.call(flat);                              // (B, last hidden)
        return (mean.call(h), logVariance.call(h));
    }

    /// <summary>The reparameterisation trick: z = μ + exp(½ log σ²)·ε with ε ~ N(0, I), shape (B, LatentSize).</summary>
    public static Tensor Reparameterize(Tensor mean, Tensor logVariance)
    {
        using var std = (0.5 * logVariance).exp();
        using var eps = torch.randn_like(std);
        using var noise = std * eps;
        return mean + noise;
    }

    /// <summary>Bernoulli pixel logits (B, InputSize) of codes z (B, LatentSize); σ(logits) is the image.</summary>
    public Tensor Decode(Tensor z) => decoder.call(z);

    /// <summary>Images (B, InputSize) in 0..1 decoded from codes z (B, LatentSize): the decoder as a generator.</summary>
    public Tensor Generate(Tensor z)
    {
        using var logits = Decode(z);
        return torch.sigmoid(logits);
    }

    /// <summary>KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²) for each row: shape (B).</summary>
    public static Tensor KlDivergence(Tensor mean, Tensor logVariance)
    {
        using var terms = mean.pow(2) + logVariance.exp() - 1 - logVariance;   // (B, LatentSize)
        return 0.5 * terms.sum(1);
    }

    /// <summary>The negative ELBO per image, averaged over the batch, split into its two terms: the reconstruction term
    /// −log p(x|z) (binary cross-entropy summed over pixels, one z per image) and the KL term.</summary>
    public (Tensor Reconstruction, Tensor Kl) Loss(Tensor images)
    {
        var (logits, mu, logVar) = forward(images);
        using (logits) using (mu) using (logVar)
        using (var flat = images.flatten(1))
        {
            var reconstruction = nn.functional.binary_cross_entropy_with_logits(logits, flat, reduction: nn.Reduction.Sum) / images.shape[0];
            using var kl = KlDivergence(mu, logVar);
            return (reconstruction, kl.mean());
        }
    }

    /// <summary>Pixel logits (B, InputSize) from one sampled z per image, with the μ and log σ² (B, LatentSize) behind it.</summary>
    public override (Tensor Logits, Tensor Mean, Tensor LogVariance) forward(Tensor images)
    {
        var (mu, logVar) = Encode(images);
        using var z = Reparameterize(mu, logVar);                      // (B, LatentSize)
        return (Decode(z), mu, logVar);
    }
}

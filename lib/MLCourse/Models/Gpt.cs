using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of a <see cref="Gpt"/>. Introduced in chapter 10 (self-supervised learning).</summary>
/// <param name="VocabSize">Tokens in the vocabulary (e.g. the characters of a text for a character-level model).</param>
/// <param name="Hidden">Width H of every hidden state.</param>
/// <param name="Layers">Number of Transformer layers.</param>
/// <param name="Heads">Attention heads per layer; must divide <paramref name="Hidden"/>.</param>
/// <param name="Intermediate">Width of each layer's feed-forward block.</param>
/// <param name="Context">Longest context (number of positions) the model reads.</param>
/// <param name="Dropout">Dropout while training.</param>
public sealed record GptConfig(int VocabSize, int Hidden = 128, int Layers = 2, int Heads = 4, int Intermediate = 512,
                               int Context = 128, double Dropout = 0.1)
{
    /// <summary>The same sizes as a <see cref="BertConfig"/>, so that the layers are <see cref="BertLayer"/>s.</summary>
    public BertConfig AsBertConfig() => new(VocabSize, Hidden, Layers, Heads, Intermediate, Context, 1, Dropout, 1e-5);

    /// <summary>Number of trainable parameters (the output matrix is the tied token embedding, counted once).</summary>
    public long ParameterCount()
    {
        long h = Hidden;
        long layer = 4 * (h * h + h) + 2 * h + (h * Intermediate + Intermediate) + (Intermediate * h + h) + 2 * h;
        return ((long)VocabSize + Context) * h + Layers * layer + 2 * h + VocabSize;
    }
}

/// <summary>
/// A small GPT (Radford et al. 2018): a Transformer trained to predict the next token (下一个词预测) from the
/// previous ones. The layout is its own mix, neither GPT-1's nor GPT-2's: token + position embeddings and dropout;
/// the post-LN layers of <see cref="Bert"/> and GPT-1 (attention → add &amp; norm → GELU feed-forward → add &amp;
/// norm) with a causal mask (因果掩码), so position t attends to positions ≤ t only; then a final layer norm (which
/// GPT-1 does not have; GPT-2 has one because its layers are pre-LN) and an output layer tied to the token embedding,
/// with a bias. <see cref="Generate"/> samples text with a temperature. Introduced in chapter 10.
/// </summary>
public sealed class Gpt : nn.Module<Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding;
    private readonly Dropout dropout;
    private readonly ModuleList<BertLayer> layers;
    private readonly LayerNorm finalNorm;
    private readonly Parameter outputBias;

    /// <summary>
    /// A randomly initialised GPT, by module type as GPT-1 and GPT-2 do: linear and embedding weights normal(0, 0.02),
    /// linear biases zero, layer norms γ = 1 and β = 0 (their defaults), the output bias zero.
    /// </summary>
    public Gpt(GptConfig config) : base("Gpt")
    {
        Config = config;
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Hidden);
        positionEmbedding = nn.Embedding(config.Context, config.Hidden);
        dropout = nn.Dropout(config.Dropout);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new BertLayer(config.AsBertConfig())).ToArray());
        finalNorm = nn.LayerNorm(config.Hidden);
        outputBias = nn.Parameter(torch.zeros(config.VocabSize));
        RegisterComponents();
        using var noGrad = torch.no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Linear linear:
                    nn.init.normal_(linear.weight!, 0, 0.02);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    nn.init.normal_(embedding.weight!, 0, 0.02);
                    break;
            }
        }
    }

    /// <summary>The sizes this model was built with.</summary>
    public GptConfig Config { get; }

    /// <summary>
    /// The causal attention bias [1, 1, T, T]: 0 on and below the diagonal and, above it (no peeking at the future), the
    /// most negative finite value of <paramref name="dtype"/> (<c>torch.finfo(dtype).min</c>, as Hugging Face masks):
    /// its softmax weight is 0, and a row with every key masked would give equal weights, never NaN as −∞ would.
    /// </summary>
    public static Tensor CausalBias(long length, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        using var future = torch.ones(length, length, dtype: ScalarType.Bool, device: device).triu(1);   // (T, T)
        using var zeros = torch.zeros(length, length, dtype: dtype, device: device);
        using var lowest = torch.finfo(dtype).min.ToScalar();
        using var bias = zeros.masked_fill(future, lowest);
        return bias.view(1, 1, length, length);
    }

    /// <summary>Next-token logits [B, T, V] for token ids [B, T] (int64): row t predicts token t + 1.</summary>
    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        long T = ids.shape[1];
        if (T > Config.Context) throw new ArgumentException($"Sequence length {T} exceeds the context of {Config.Context}.");
        var positions = torch.arange(T, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
        var x = dropout.call(tokenEmbedding.call(ids) + positionEmbedding.call(positions));
        var bias = CausalBias(T, ids.device, x.dtype);
        foreach (var layer in layers) x = layer.call(x, bias);
        var logits = nn.functional.linear(finalNorm.call(x), tokenEmbedding.weight!, outputBias);
        return logits.MoveToOuterDisposeScope();
    }

    /// <summary>The language-model loss: mean cross-entropy of predicting ids[:, t+1] from ids[:, ≤ t].</summary>
    public Tensor Loss(Tensor ids)
    {
        using var scope = NewDisposeScope();
        long T = ids.shape[1];
        var logits = call(ids.narrow(1, 0, T - 1));
        var loss = nn.functional.cross_entropy(logits.reshape(-1, Config.VocabSize), ids.narrow(1, 1, T - 1).reshape(-1));
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Continues a prompt by sampling one token at a time from softmax(logits / temperature) of the last position
    /// (the context is cut to the last <see cref="GptConfig.Context"/> tokens). Temperature → 0 approaches greedy
    /// decoding; 1 samples the model's distribution; above 1 flattens it. The tokens go to the model's device; each
    /// next token is drawn on the CPU by a generator seeded with <paramref name="seed"/> from the (vocabulary-sized)
    /// probabilities, so the same seed and weights give the same text on every device.
    /// </summary>
    /// <param name="prompt">Token ids of the prompt, at least one.</param>
    /// <param name="count">Number of tokens to add.</param>
    /// <param name="temperature">Divides the logits before the softmax; must be positive.</param>
    /// <param name="seed">Seed of the sampling, for reproducible text.</param>
    /// <returns>The new tokens only.</returns>
    public long[] Generate(IReadOnlyList<long> prompt, int count, double temperature = 1.0, long seed = 0)
    {
        if (prompt.Count == 0) throw new ArgumentException("The prompt needs at least one token.");
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), "The temperature must be positive.");
        bool wasTraining = training;
        eval();
        var device = tokenEmbedding.weight!.device;
        using var generator = new Generator(unchecked((ulong)seed));             // TorchSharp 0.107: always a CPU generator
        var tokens = new List<long>(prompt);
        try
        {
            using var noGrad = torch.no_grad();
            for (int i = 0; i < count; i++)
            {
                using var scope = NewDisposeScope();
                var context = tokens.Skip(Math.Max(0, tokens.Count - Config.Context)).ToArray();
                var ids = torch.tensor(context, device: device).unsqueeze(0);                  // (1, T) on the model's device
                var logits = call(ids).select(1, context.Length - 1).squeeze(0);                // (V)
                var probabilities = (logits / temperature).softmax(-1).cpu();                   // (V), for the CPU generator
                tokens.Add(torch.multinomial(probabilities, 1, generator: generator).item<long>());
            }
        }
        finally
        {
            if (wasTraining) train();
        }
        return tokens.Skip(prompt.Count).ToArray();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of a <see cref="Seq2SeqTransformer"/>. Introduced in chapter 09 (Transformer).</summary>
/// <param name="SourceVocab">Tokens of the source (encoder) vocabulary, padding included.</param>
/// <param name="TargetVocab">Tokens of the target (decoder) vocabulary, padding and BOS/EOS included.</param>
/// <param name="DModel">Width of every token vector (d_model).</param>
/// <param name="Heads">Attention heads per attention layer; must divide <paramref name="DModel"/>.</param>
/// <param name="EncoderLayers">Encoder layers stacked.</param>
/// <param name="DecoderLayers">Decoder layers stacked.</param>
/// <param name="FeedForward">Hidden width of the position-wise feed-forward network.</param>
/// <param name="MaxLength">Longest sequence the positional encoding covers.</param>
/// <param name="Dropout">Dropout after attention and feed-forward sublayers (0: none).</param>
/// <param name="PadToken">The padding token id, the same in both vocabularies; keys holding it are masked.</param>
public sealed record TransformerConfig(int SourceVocab, int TargetVocab, int DModel = 64, int Heads = 4,
                                       int EncoderLayers = 2, int DecoderLayers = 2, int FeedForward = 128,
                                       int MaxLength = 64, double Dropout = 0.0, int PadToken = 0)
{
    /// <summary>Number of trainable parameters of the model this config builds.</summary>
    public long ParameterCount()
    {
        long d = DModel, f = FeedForward;
        long attention = 4 * (d * d + d);                         // query, key, value, output projections
        long feedForward = d * f + f + f * d + d;
        long norm = 2 * d;                                        // γ and β
        long encoder = attention + feedForward + 2 * norm;
        long decoder = 2 * attention + feedForward + 3 * norm;
        return SourceVocab * d + TargetVocab * d + EncoderLayers * encoder + DecoderLayers * decoder
               + d * TargetVocab + TargetVocab;
    }
}

/// <summary>
/// Multi-head scaled dot-product attention (多头注意力): project queries, keys and values, split them into
/// <c>heads</c> parts of size d_k = d_model / heads, compute softmax(QKᵀ/√d_k)·V in each head, concatenate and project
/// back. Self-attention when queries and keys come from the same sequence, cross-attention (交叉注意力) when the keys
/// and values come from the encoder. Introduced in chapter 08 (self-attention).
/// </summary>
public sealed class MultiHeadAttention : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> query;
    private readonly nn.Module<Tensor, Tensor> key;
    private readonly nn.Module<Tensor, Tensor> value;
    private readonly nn.Module<Tensor, Tensor> output;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly int heads;

    /// <summary>Builds the four d_model × d_model projections.</summary>
    public MultiHeadAttention(int dModel, int heads, double dropout = 0.0) : base("MultiHeadAttention")
    {
        if (dModel % heads != 0) throw new ArgumentException($"d_model {dModel} is not divisible by {heads} heads.");
        this.heads = heads;
        query = nn.Linear(dModel, dModel);
        key = nn.Linear(dModel, dModel);
        value = nn.Linear(dModel, dModel);
        output = nn.Linear(dModel, dModel);
        this.dropout = nn.Dropout(dropout);
        RegisterComponents();
    }

    /// <summary>When true, every call keeps a detached copy of its attention weights in <see cref="LastWeights"/>.</summary>
    public bool KeepWeights { get; set; }

    /// <summary>Attention weights (B, heads, T_query, T_key) of the last call when <see cref="KeepWeights"/> is on.</summary>
    public Tensor? LastWeights { get; private set; }

    /// <summary>
    /// Attends from <paramref name="x"/> (B, T_q, d_model) to <paramref name="memory"/> (B, T_k, d_model).
    /// <paramref name="mask"/> is boolean, true where a query may look at a key, broadcastable to (B, heads, T_q, T_k);
    /// hidden keys' scores become the most negative finite value of the scores' dtype before the softmax.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor memory, Tensor? mask)
    {
        long B = x.shape[0], Tq = x.shape[1], Tk = memory.shape[1], d = x.shape[2], dk = d / heads;
        using var q = query.call(x).view(B, Tq, heads, dk).transpose(1, 2);          // (B, heads, T_q, d_k)
        using var k = key.call(memory).view(B, Tk, heads, dk).transpose(1, 2);       // (B, heads, T_k, d_k)
        using var v = value.call(memory).view(B, Tk, heads, dk).transpose(1, 2);     // (B, heads, T_k, d_k)
        using var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(dk);            // (B, heads, T_q, T_k)
        if (mask is not null)
        {
            // Hidden keys get the dtype's most negative finite value (torch.finfo(dtype).min, as Hugging Face masks): a
            // softmax weight of 0, and a row whose keys are all hidden (an all-padding source) gets equal weights, not NaN.
            using var hidden = mask.logical_not();
            using var lowest = torch.finfo(scores.dtype).min.ToScalar();
            scores.masked_fill_(hidden, lowest);
        }
        using var weights = nn.functional.softmax(scores, -1);                        // each row sums to 1
        if (KeepWeights)
        {
            LastWeights?.Dispose();
            LastWeights = weights.detach().clone().DetachFromDisposeScope();
        }
        using var dropped = dropout.call(weights);
        using var mixed = dropped.matmul(v);                                          // (B, heads, T_q, d_k)
        using var merged = mixed.transpose(1, 2).reshape(B, Tq, d);                   // (B, T_q, d_model)
        return output.call(merged);
    }
}

/// <summary>
/// One encoder layer (编码器层): self-attention, then a position-wise feed-forward network, each wrapped as
/// LayerNorm(x + Dropout(sublayer(x))) — the residual connection and layer normalisation (层归一化) of "Add &amp; Norm"
/// (post-norm, as in the original paper). Introduced in chapter 09 (Transformer).
/// </summary>
public sealed class EncoderLayer : nn.Module<Tensor, Tensor?, Tensor>
{
    private readonly MultiHeadAttention self_attn;
    private readonly nn.Module<Tensor, Tensor> dropout1;
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly nn.Module<Tensor, Tensor> linear1;
    private readonly nn.Module<Tensor, Tensor> linear2;
    private readonly nn.Module<Tensor, Tensor> dropout2;
    private readonly nn.Module<Tensor, Tensor> norm2;

    /// <summary>Builds the layer from the shared hyper-parameters.</summary>
    public EncoderLayer(TransformerConfig config) : base("EncoderLayer")
    {
        self_attn = new MultiHeadAttention(config.DModel, config.Heads, config.Dropout);
        dropout1 = nn.Dropout(config.Dropout);
        norm1 = nn.LayerNorm(config.DModel);
        linear1 = nn.Linear(config.DModel, config.FeedForward);
        linear2 = nn.Linear(config.FeedForward, config.DModel);
        dropout2 = nn.Dropout(config.Dropout);
        norm2 = nn.LayerNorm(config.DModel);
        RegisterComponents();
    }

    /// <summary>The layer's self-attention, e.g. to read its <see cref="MultiHeadAttention.LastWeights"/>.</summary>
    public MultiHeadAttention SelfAttention => self_attn;

    /// <summary>Maps x (B, T, d_model) to (B, T, d_model); <paramref name="mask"/> hides padding keys.</summary>
    public override Tensor forward(Tensor x, Tensor? mask)
    {
        using var attended = self_attn.call(x, x, mask);
        using var h = norm1.call(x + dropout1.call(attended));                        // add & norm
        using var hidden = nn.functional.relu(linear1.call(h));                       // (B, T, feedForward)
        using var ff = linear2.call(hidden);                                          // (B, T, d_model)
        return norm2.call(h + dropout2.call(ff));                                     // add & norm
    }
}

/// <summary>
/// One decoder layer (解码器层): masked self-attention over the target prefix, cross-attention (交叉注意力) to the
/// encoder's output, then the feed-forward network, each with "Add &amp; Norm". Introduced in chapter 09 (Transformer).
/// </summary>
public sealed class DecoderLayer : nn.Module<Tensor, Tensor, Tensor?, Tensor?, Tensor>
{
    private readonly MultiHeadAttention self_attn;
    private readonly nn.Module<Tensor, Tensor> dropout1;
    private readonly nn.Module<Tensor, Tensor> norm1;
    private readonly MultiHeadAttention multihead_attn;
    private readonly nn.Module<Tensor, Tensor> dropout2;
    private readonly nn.Module<Tensor, Tensor> norm2;
    private readonly nn.Module<Tensor, Tensor> linear1;
    private readonly nn.Module<Tensor, Tensor> linear2;
    private readonly nn.Module<Tensor, Tensor> dropout3;
    private readonly nn.Module<Tensor, Tensor> norm3;

    /// <summary>Builds the layer from the shared hyper-parameters.</summary>
    public DecoderLayer(TransformerConfig config) : base("DecoderLayer")
    {
        self_attn = new MultiHeadAttention(config.DModel, config.Heads, config.Dropout);
        dropout1 = nn.Dropout(config.Dropout);
        norm1 = nn.LayerNorm(config.DModel);
        multihead_attn = new MultiHeadAttention(config.DModel, config.Heads, config.Dropout);
        dropout2 = nn.Dropout(config.Dropout);
        norm2 = nn.LayerNorm(config.DModel);
        linear1 = nn.Linear(config.DModel, config.FeedForward);
        linear2 = nn.Linear(config.FeedForward, config.DModel);
        dropout3 = nn.Dropout(config.Dropout);
        norm3 = nn.LayerNorm(config.DModel);
        RegisterComponents();
    }

    /// <summary>The layer's cross-attention (queries from the target, keys and values from the encoder).</summary>
    public MultiHeadAttention CrossAttention => multihead_attn;

    /// <summary>
    /// Maps the target x (B, T, d_model) to (B, T, d_model) given the encoder output <paramref name="memory"/>
    /// (B, S, d_model); <paramref name="selfMask"/> is the causal mask, <paramref name="memoryMask"/> hides source padding.
    /// </summary>
    public override Tensor forward(Tensor x, Tensor memory, Tensor? selfMask, Tensor? memoryMask)
    {
        using var selfAttended = self_attn.call(x, x, selfMask);
        using var h1 = norm1.call(x + dropout1.call(selfAttended));                   // add & norm
        using var crossAttended = multihead_attn.call(h1, memory, memoryMask);
        using var h2 = norm2.call(h1 + dropout2.call(crossAttended));                 // add & norm
        using var hidden = nn.functional.relu(linear1.call(h2));                      // (B, T, feedForward)
        using var ff = linear2.call(hidden);                                          // (B, T, d_model)
        return norm3.call(h2 + dropout3.call(ff));                                    // add & norm
    }
}

/// <summary>
/// The encoder–decoder Transformer (编码器/解码器) of "Attention Is All You Need", small and readable: token
/// embeddings × √d_model plus sinusoidal positional encoding (位置编码), a stack of <see cref="EncoderLayer"/>s, a
/// stack of <see cref="DecoderLayer"/>s and a linear layer to target-token logits. <c>forward(source, targetInput)</c>
/// is the teacher-forced (教师强制) training pass; <see cref="Generate"/> decodes autoregressively (自回归), greedily.
/// Introduced in chapter 09 (Transformer).
/// </summary>
public sealed class Seq2SeqTransformer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor> source_embedding;
    private readonly nn.Module<Tensor, Tensor> target_embedding;
    private readonly nn.Module<Tensor, Tensor> dropout;
    private readonly TorchSharp.Modules.ModuleList<EncoderLayer> encoder;
    private readonly TorchSharp.Modules.ModuleList<DecoderLayer> decoder;
    private readonly nn.Module<Tensor, Tensor> generator;
    private readonly Tensor positions;

    /// <summary>Builds the model with PyTorch's default initialisation.</summary>
    public Seq2SeqTransformer(TransformerConfig config) : base("Seq2SeqTransformer")
    {
        Config = config;
        source_embedding = nn.Embedding(config.SourceVocab, config.DModel);
        target_embedding = nn.Embedding(config.TargetVocab, config.DModel);
        dropout = nn.Dropout(config.Dropout);
        encoder = nn.ModuleList(Enumerable.Range(0, config.EncoderLayers).Select(_ => new EncoderLayer(config)).ToArray());
        decoder = nn.ModuleList(Enumerable.Range(0, config.DecoderLayers).Select(_ => new DecoderLayer(config)).ToArray());
        generator = nn.Linear(config.DModel, config.TargetVocab);
        positions = SinusoidalPositions(config.MaxLength, config.DModel);
        RegisterComponents();                                                             // positions becomes a buffer
    }

    /// <summary>The hyper-parameters.</summary>
    public TransformerConfig Config { get; }

    /// <summary>The encoder layers, e.g. to read their self-attention weights.</summary>
    public IReadOnlyList<EncoderLayer> EncoderLayers => encoder.ToList();

    /// <summary>The decoder layers, e.g. to read their cross-attention weights.</summary>
    public IReadOnlyList<DecoderLayer> DecoderLayers => decoder.ToList();

    /// <summary>
    /// The sinusoidal positional encoding (maxLength, dModel): PE[pos, 2i] = sin(pos / 10000^(2i/d)),
    /// PE[pos, 2i+1] = cos(pos / 10000^(2i/d)). Introduced in chapter 08 (self-attention).
    /// </summary>
    public static Tensor SinusoidalPositions(int maxLength, int dModel)
    {
        using var scope = torch.NewDisposeScope();
        var pos = torch.arange(maxLength, dtype: float32).unsqueeze(1);                         // (L, 1)
        var frequencies = torch.exp(torch.arange(0, dModel, 2, dtype: float32) * (-Math.Log(10000.0) / dModel)); // (d/2,)
        var angles = pos * frequencies;                                                         // (L, d/2)
        var pe = torch.stack([torch.sin(angles), torch.cos(angles)], 2).reshape(maxLength, -1); // (L, d) interleaved
        return pe[.., ..dModel].contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Lower-triangular boolean mask (1, 1, T, T): position t may look at positions ≤ t only.</summary>
    public static Tensor CausalMask(long length, Device? device = null) =>
        torch.ones(length, length, dtype: ScalarType.Bool, device: device).tril().view(1, 1, length, length);

    /// <summary>Boolean key mask (B, 1, 1, T), true where <paramref name="tokens"/> (B, T) is not padding.</summary>
    public Tensor PaddingMask(Tensor tokens) => tokens.ne(Config.PadToken).unsqueeze(1).unsqueeze(1);

    private Tensor Embed(nn.Module<Tensor, Tensor> embedding, Tensor tokens)
    {
        long T = tokens.shape[1];
        if (T > Config.MaxLength) throw new ArgumentException($"Sequence of {T} tokens is longer than MaxLength {Config.MaxLength}.");
        using var e = embedding.call(tokens) * Math.Sqrt(Config.DModel);                   // (B, T, d_model)
        using var pe = positions[..(int)T];                                                 // (T, d_model)
        using var withPositions = e + pe;                                                   // broadcast over the batch
        return dropout.call(withPositions);
    }

    /// <summary>Encodes source tokens (B, S) into the memory (B, S, d_model) the decoder attends to.</summary>
    public Tensor Encode(Tensor source)
    {
        using var mask = PaddingMask(source);
        var x = Embed(source_embedding, source);
        foreach (var layer in encoder)
        {
            var next = layer.call(x, mask);
            x.Dispose();
            x = next;
        }
        return x;
    }

    /// <summary>
    /// Logits (B, T, TargetVocab) for the next token after each prefix of <paramref name="targetInput"/> (B, T), given
    /// the encoder memory and the source tokens (for their padding mask). A causal mask stops position t from seeing t+1….
    /// </summary>
    public Tensor Decode(Tensor targetInput, Tensor memory, Tensor source)
    {
        using var causal = CausalMask(targetInput.shape[1], targetInput.device);
        using var memoryMask = PaddingMask(source);
        var x = Embed(target_embedding, targetInput);
        foreach (var layer in decoder)
        {
            var next = layer.call(x, memory, causal, memoryMask);
            x.Dispose();
            x = next;
        }
        using var last = x;
        return generator.call(last);
    }

    /// <summary>Teacher-forced pass: logits (B, T, TargetVocab) for source (B, S) and target input (B, T) = BOS + target[:-1].</summary>
    public override Tensor forward(Tensor source, Tensor targetInput)
    {
        using var memory = Encode(source);
        return Decode(targetInput, memory, source);
    }

    /// <summary>
    /// Greedy autoregressive decoding: starts from <paramref name="bos"/>, appends the most likely token until every
    /// sequence produced <paramref name="eos"/> or <paramref name="maxLength"/> tokens were generated. Returns the
    /// generated tokens (B, ≤ maxLength) without BOS, on the device of <paramref name="source"/>; after a sequence's EOS
    /// its tokens are padding. Decodes in evaluation mode (no dropout) and gives the model back in the mode it was in.
    /// </summary>
    public Tensor Generate(Tensor source, int bos, int eos, int maxLength)
    {
        bool wasTraining = training;
        eval();
        try
        {
            return GenerateGreedy(source, bos, eos, maxLength);
        }
        finally
        {
            if (wasTraining) train();
        }
    }

    private Tensor GenerateGreedy(Tensor source, int bos, int eos, int maxLength)
    {
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        long B = source.shape[0];
        var memory = Encode(source);
        var ys = torch.full(new long[] { B, 1 }, bos, dtype: int64, device: source.device);                 // (B, 1)
        var finished = torch.zeros(B, dtype: ScalarType.Bool, device: source.device);        // (B,)
        for (int step = 0; step < maxLength; step++)
        {
            var logits = Decode(ys, memory, source);                                          // (B, t, V)
            var next = logits[.., -1].argmax(-1);                                             // (B,)
            next = next.masked_fill(finished, Config.PadToken);
            ys = torch.cat([ys, next.unsqueeze(1)], 1);                                       // (B, t + 1)
            finished = finished.logical_or(next.eq(eos));
            if (finished.all().item<bool>()) break;
        }
        return ys[.., 1..].contiguous().MoveToOuterDisposeScope();
    }
}

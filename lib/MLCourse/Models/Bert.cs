using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>Hyper-parameters of a <see cref="Bert"/> encoder. Introduced in chapter 10 (self-supervised learning).</summary>
/// <param name="VocabSize">Tokens in the vocabulary (30,522 for bert-base-uncased's WordPiece vocabulary).</param>
/// <param name="Hidden">Width H of every hidden state.</param>
/// <param name="Layers">Number L of Transformer encoder layers.</param>
/// <param name="Heads">Attention heads A per layer; must divide <paramref name="Hidden"/>.</param>
/// <param name="Intermediate">Width of each layer's feed-forward block (4H in BERT).</param>
/// <param name="MaxPositions">Longest sequence the learned position embeddings cover.</param>
/// <param name="TypeVocabSize">Segment types (2: sentence A and sentence B).</param>
/// <param name="Dropout">Dropout on embeddings, attention probabilities and layer outputs while training.</param>
/// <param name="LayerNormEps">ε of the layer normalizations (1e-12 in BERT).</param>
public sealed record BertConfig(int VocabSize = 30522, int Hidden = 128, int Layers = 2, int Heads = 2, int Intermediate = 512,
                                int MaxPositions = 512, int TypeVocabSize = 2, double Dropout = 0.1, double LayerNormEps = 1e-12)
{
    /// <summary>
    /// Named sizes: bert-tiny (L=2, H=128), bert-mini (L=4, H=256) and bert-small (L=4, H=512) of Turc et al. 2019,
    /// bert-base (L=12, H=768) of Devlin et al. 2019, and bert-micro (L=2, H=64, 256 positions), small enough to
    /// train from scratch on a laptop CPU in minutes.
    /// </summary>
    public static IReadOnlyDictionary<string, BertConfig> Presets { get; } = new Dictionary<string, BertConfig>
    {
        ["bert-micro"] = new(Hidden: 64, Layers: 2, Heads: 2, Intermediate: 256, MaxPositions: 256),
        ["bert-tiny"] = new(Hidden: 128, Layers: 2, Heads: 2, Intermediate: 512),
        ["bert-mini"] = new(Hidden: 256, Layers: 4, Heads: 4, Intermediate: 1024),
        ["bert-small"] = new(Hidden: 512, Layers: 4, Heads: 8, Intermediate: 2048),
        ["bert-base"] = new(Hidden: 768, Layers: 12, Heads: 12, Intermediate: 3072),
    };

    /// <summary>Parameters of the encoder alone (embeddings, layers and the pooler), as BERT papers count them.</summary>
    public long ParameterCount()
    {
        long h = Hidden, embeddings = ((long)VocabSize + MaxPositions + TypeVocabSize) * h + 2 * h;
        long layer = 4 * (h * h + h) + 2 * h + (h * Intermediate + Intermediate) + (Intermediate * h + h) + 2 * h;
        long pooler = h * h + h;
        return embeddings + Layers * layer + pooler;
    }

    /// <summary>Parameters of the masked-language-model head (its output matrix is the tied token embedding, not counted).</summary>
    public long MlmHeadParameterCount() => (long)Hidden * Hidden + Hidden + 2L * Hidden + VocabSize;
}

/// <summary>
/// A container that only names its children, so that parameter names follow Hugging Face's layout
/// (<c>encoder.layer.0.attention.self.query.weight</c>, …) while the forward pass stays in one place.
/// </summary>
internal sealed class Named : nn.Module
{
    public Named(string name, params (string Name, nn.Module Module)[] children) : base(name)
    {
        foreach (var (childName, module) in children) register_module(childName, module);
    }
}

/// <summary>
/// One post-LN Transformer encoder layer as in BERT: multi-head self-attention (多头自注意力) with a key mask,
/// add &amp; norm, a GELU feed-forward block, add &amp; norm. Its parameters carry Hugging Face's names
/// (<c>attention.self.query</c>, <c>attention.output.dense</c>, <c>attention.output.LayerNorm</c>,
/// <c>intermediate.dense</c>, <c>output.dense</c>, <c>output.LayerNorm</c>). Introduced in chapter 10.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Linear query, key, value, attentionOutput, intermediate, output;
    private readonly LayerNorm attentionNorm, outputNorm;
    private readonly Dropout attentionDropout, attentionOutputDropout, outputDropout;
    private readonly int heads;

    /// <summary>A layer of the given sizes.</summary>
    public BertLayer(BertConfig config) : base("BertLayer")
    {
        if (config.Hidden % config.Heads != 0) throw new ArgumentException($"Hidden {config.Hidden} is not a multiple of Heads {config.Heads}.");
        heads = config.Heads;
        query = nn.Linear(config.Hidden, config.Hidden);
        key = nn.Linear(config.Hidden, config.Hidden);
        value = nn.Linear(config.Hidden, config.Hidden);
        attentionDropout = nn.Dropout(config.Dropout);
        attentionOutput = nn.Linear(config.Hidden, config.Hidden);
        attentionNorm = nn.LayerNorm(config.Hidden, config.LayerNormEps);
        attentionOutputDropout = nn.Dropout(config.Dropout);
        intermediate = nn.Linear(config.Hidden, config.Intermediate);
        output = nn.Linear(config.Intermediate, config.Hidden);
        outputNorm = nn.LayerNorm(config.Hidden, config.LayerNormEps);
        outputDropout = nn.Dropout(config.Dropout);
        register_module("attention", new Named("BertAttention",
            ("self", new Named("BertSelfAttention", ("query", query), ("key", key), ("value", value), ("dropout", attentionDropout))),
            ("output", new Named("BertSelfOutput", ("dense", attentionOutput), ("LayerNorm", attentionNorm), ("dropout", attentionOutputDropout)))));
        register_module("intermediate", new Named("BertIntermediate", ("dense", intermediate)));
        register_module("output", new Named("BertOutput", ("dense", output), ("LayerNorm", outputNorm), ("dropout", outputDropout)));
    }

    /// <summary>Hidden states [B, T, H] → [B, T, H].</summary>
    /// <param name="x">The layer's input [B, T, H].</param>
    /// <param name="bias">Added to the attention scores, broadcast to [B, A, T, T]: 0 for keys to attend to, a large
    /// negative number for [PAD] keys (see <see cref="Bert.AttentionBias"/>).</param>
    public override Tensor forward(Tensor x, Tensor bias)
    {
        using var scope = NewDisposeScope();
        long B = x.shape[0], T = x.shape[1], H = x.shape[2], d = H / heads;
        Tensor Split(Tensor t) => t.view(B, T, heads, d).transpose(1, 2);          // [B, A, T, d]
        var q = Split(query.call(x));
        var k = Split(key.call(x));
        var v = Split(value.call(x));
        var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(d) + bias;         // [B, A, T, T]
        var weights = attentionDropout.call(scores.softmax(-1));
        var context = weights.matmul(v).transpose(1, 2).reshape(B, T, H);
        var h = attentionNorm.call(x + attentionOutputDropout.call(attentionOutput.call(context)));
        var y = outputNorm.call(h + outputDropout.call(output.call(nn.functional.gelu(intermediate.call(h)))));
        return y.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// BERT (Devlin et al. 2019), the encoder: token + position + segment embeddings, layer norm, L Transformer encoder
/// layers, giving one H-dimensional hidden state per token; plus the two heads of pre-training's masked language
/// model (掩码语言模型): <see cref="MlmLogits"/> predicts the token at every position with an output matrix tied to
/// the token embedding. <see cref="Pooled"/> is the tanh layer on the [CLS] state that classifiers read. Weights
/// start as in BERT, by module type: linear and embedding weights normal(0, 0.02), biases 0, layer norms 1 and 0.
/// <para>Parameter names are Hugging Face's (<c>state_dict</c> keys of <c>BertModel</c>, plus <c>cls.predictions.*</c>
/// of <c>BertForMaskedLM</c>): <c>embeddings.word_embeddings.weight</c>, <c>encoder.layer.0.attention.self.query.weight</c>,
/// …, <c>pooler.dense.weight</c>, <c>cls.predictions.transform.dense.weight</c>, <c>cls.predictions.bias</c>, so a
/// pretrained checkpoint maps by name (<see cref="MLCourse.Pretrained.BertCheckpoint"/>).</para>
/// Introduced in chapter 10 (self-supervised learning).
/// </summary>
public sealed class Bert : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding tokenEmbedding, positionEmbedding, segmentEmbedding;
    private readonly LayerNorm embeddingNorm;
    private readonly Dropout dropout;
    private readonly ModuleList<BertLayer> layers;
    private readonly Linear pooler, mlmTransform;
    private readonly LayerNorm mlmNorm;
    private readonly Parameter mlmBias;

    /// <summary>A randomly initialised BERT of the given size (default: bert-tiny).</summary>
    public Bert(BertConfig? config = null) : base("Bert")
    {
        Config = config ??= new BertConfig();
        tokenEmbedding = nn.Embedding(config.VocabSize, config.Hidden);
        positionEmbedding = nn.Embedding(config.MaxPositions, config.Hidden);
        segmentEmbedding = nn.Embedding(config.TypeVocabSize, config.Hidden);
        embeddingNorm = nn.LayerNorm(config.Hidden, config.LayerNormEps);
        dropout = nn.Dropout(config.Dropout);
        layers = nn.ModuleList(Enumerable.Range(0, config.Layers).Select(_ => new BertLayer(config)).ToArray());
        pooler = nn.Linear(config.Hidden, config.Hidden);
        mlmTransform = nn.Linear(config.Hidden, config.Hidden);
        mlmNorm = nn.LayerNorm(config.Hidden, config.LayerNormEps);
        mlmBias = nn.Parameter(torch.zeros(config.VocabSize));
        register_module("embeddings", new Named("BertEmbeddings", ("word_embeddings", tokenEmbedding),
            ("position_embeddings", positionEmbedding), ("token_type_embeddings", segmentEmbedding),
            ("LayerNorm", embeddingNorm), ("dropout", dropout)));
        register_module("encoder", new Named("BertEncoder", ("layer", layers)));
        register_module("pooler", new Named("BertPooler", ("dense", pooler)));
        var predictions = new Named("BertLMPredictionHead",
            ("transform", new Named("BertPredictionHeadTransform", ("dense", mlmTransform), ("LayerNorm", mlmNorm))));
        predictions.register_parameter("bias", mlmBias);
        register_module("cls", new Named("BertOnlyMLMHead", ("predictions", predictions)));
        InitWeights(this);
    }

    /// <summary>BERT's initialisation, by module type: Linear and Embedding weights normal(0, 0.02), Linear biases 0,
    /// LayerNorm weights 1 and biases 0 (as Hugging Face's <c>BertPreTrainedModel._init_weights</c>).</summary>
    internal static void InitWeights(nn.Module module)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, m) in module.named_modules())
        {
            switch (m)
            {
                case Linear linear:
                    nn.init.normal_(linear.weight!, 0, 0.02);
                    linear.bias?.zero_();
                    break;
                case Embedding embedding:
                    nn.init.normal_(embedding.weight!, 0, 0.02);
                    break;
                case LayerNorm norm:
                    norm.weight?.fill_(1);
                    norm.bias?.zero_();
                    break;
            }
        }
    }

    /// <summary>The sizes this model was built with.</summary>
    public BertConfig Config { get; }

    /// <summary>The token embedding matrix [V, H] (also the output matrix of the masked-language-model head).</summary>
    public Tensor TokenEmbeddingWeight => tokenEmbedding.weight!;

    /// <summary>
    /// The additive attention bias [B, 1, 1, T] of a 0/1 attention mask [B, T]: 0 where the mask is 1 and the most
    /// negative finite value of <paramref name="dtype"/> where it is 0 (as Hugging Face: <c>torch.finfo(dtype).min</c>),
    /// so that after the softmax no position attends to a [PAD] key (its weight underflows to exactly 0), and a row
    /// with no real key at all gives uniform weights, never NaN (−∞ would).
    /// </summary>
    /// <param name="attentionMask">1 for real tokens, 0 for [PAD], [B, T] (any integer or float type).</param>
    /// <param name="dtype">The dtype of the attention scores (float32 unless given).</param>
    public static Tensor AttentionBias(Tensor attentionMask, ScalarType dtype = ScalarType.Float32) =>
        (1 - attentionMask.to(dtype)).mul(MostNegative(dtype)).unsqueeze(1).unsqueeze(1);

    /// <summary>The most negative finite value of a floating dtype (<c>torch.finfo(dtype).min</c>).</summary>
    public static double MostNegative(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 => double.MinValue,
        ScalarType.Float32 => float.MinValue,
        ScalarType.Float16 => -65504.0,
        ScalarType.BFloat16 => -3.3895313892515355e38,
        _ => throw new ArgumentException($"{dtype} is not a floating-point type."),
    };

    /// <summary>Hidden states [B, T, H] of token ids [B, T] (int64), with segment 0 everywhere.</summary>
    /// <param name="ids">Token ids, [CLS] first.</param>
    /// <param name="attentionMask">1 for real tokens, 0 for [PAD] (any integer or float type), [B, T].</param>
    public override Tensor forward(Tensor ids, Tensor attentionMask) => Encode(ids, attentionMask, null);

    /// <summary>Hidden states [B, T, H], with explicit segment ids [B, T] (0 for sentence A, 1 for B) or null for all 0.</summary>
    public Tensor Encode(Tensor ids, Tensor attentionMask, Tensor? segments)
    {
        using var scope = NewDisposeScope();
        long T = ids.shape[1];
        if (T > Config.MaxPositions) throw new ArgumentException($"Sequence length {T} exceeds MaxPositions {Config.MaxPositions}.");
        var positions = torch.arange(T, dtype: ScalarType.Int64, device: ids.device).unsqueeze(0);
        var x = tokenEmbedding.call(ids) + segmentEmbedding.call(segments ?? torch.zeros_like(ids))
              + positionEmbedding.call(positions);
        x = dropout.call(embeddingNorm.call(x));
        var bias = AttentionBias(attentionMask, x.dtype);
        foreach (var layer in layers) x = layer.call(x, bias);
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The pooled summary [B, H] of hidden states [B, T, H]: tanh(W·h[CLS] + b), BERT's input to classifiers.</summary>
    public Tensor Pooled(Tensor hidden)
    {
        using var cls = hidden.select(1, 0);
        using var z = pooler.call(cls);
        return z.tanh();
    }

    /// <summary>
    /// Logits over the vocabulary for hidden states [..., H] → [..., V]: dense, GELU, layer norm, then a product with
    /// the token embedding matrix (weights tied, 权重共享) plus a bias.
    /// </summary>
    public Tensor MlmLogits(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var h = mlmNorm.call(nn.functional.gelu(mlmTransform.call(hidden)));
        return nn.functional.linear(h, tokenEmbedding.weight!, mlmBias).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The masked-language-model loss: mean cross-entropy of the predictions at the positions whose label is not
    /// −100 (the masked ones); the vocabulary logits are computed only there. A batch with no masked position gives
    /// 0 (still connected to the graph, so <c>backward()</c> works and adds nothing), where PyTorch's mean would give NaN.
    /// </summary>
    /// <param name="ids">Corrupted input ids [B, T].</param>
    /// <param name="attentionMask">1 for real tokens, 0 for [PAD], [B, T].</param>
    /// <param name="labels">The original id at masked positions, −100 elsewhere, [B, T].</param>
    public Tensor MlmLoss(Tensor ids, Tensor attentionMask, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var hidden = call(ids, attentionMask);
        var flat = labels.reshape(-1);
        var where = flat.ne(-100).nonzero().squeeze(1);
        var selected = hidden.reshape(-1, Config.Hidden).index_select(0, where);
        var sum = nn.functional.cross_entropy(MlmLogits(selected), flat.index_select(0, where), reduction: nn.Reduction.Sum);
        return sum.div(Math.Max(where.shape[0], 1)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// A sequence classifier on a <see cref="Bert"/> encoder: dropout and a linear layer on the pooled [CLS] state.
/// Fine-tuning (微调) trains all of it. Introduced in chapter 10 and the homework hw-imdb-bert.
/// </summary>
public sealed class BertClassifier : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Dropout dropout;
    private readonly Linear head;

    /// <summary>A classifier on a new randomly initialised encoder of the given size.</summary>
    public BertClassifier(BertConfig config, int classes = 2) : this(new Bert(config), classes) { }

    /// <summary>A classifier on an existing (e.g. pre-trained) encoder, which it shares, not copies.</summary>
    public BertClassifier(Bert encoder, int classes = 2) : base("BertClassifier")
    {
        Encoder = encoder;
        dropout = nn.Dropout(encoder.Config.Dropout);
        head = nn.Linear(encoder.Config.Hidden, classes);
        RegisterComponents();
        using var noGrad = torch.no_grad();
        nn.init.normal_(head.weight!, 0, 0.02);
        head.bias!.zero_();
    }

    /// <summary>The encoder.</summary>
    public Bert Encoder { get; }

    /// <summary>Class logits [B, classes] of token ids [B, T] and their attention mask [B, T].</summary>
    public override Tensor forward(Tensor ids, Tensor attentionMask)
    {
        using var hidden = Encoder.call(ids, attentionMask);
        using var pooled = Encoder.Pooled(hidden);
        using var dropped = dropout.call(pooled);
        return head.call(dropped);
    }
}

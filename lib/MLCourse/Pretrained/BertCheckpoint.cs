using System.Collections;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MLCourse.Models;
using MLCourse.Text;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MLCourse.Pretrained;

/// <summary>A pretrained BERT and the tokenizer of its vocabulary.</summary>
/// <param name="Model">The encoder (with pooler and MLM head).</param>
/// <param name="Tokenizer">Its WordPiece tokenizer.</param>
public sealed record PretrainedBert(Bert Model, WordPieceTokenizer Tokenizer);

/// <summary>
/// Hugging Face BERT checkpoints (a folder with <c>config.json</c>, <c>vocab.txt</c> and <c>model.safetensors</c> or
/// <c>pytorch_model.bin</c>, as <c>save_pretrained</c> writes and the Hub serves, e.g. bert-base-uncased) read into and
/// written from the course's <see cref="Bert"/>, whose parameter names are Hugging Face's. Tensors go through
/// TorchSharp.PyBridge. Introduced in the homework hw-imdb-bert (fine-tuning a pretrained encoder).
/// </summary>
public static class BertCheckpoint
{
    /// <summary>
    /// Loads a checkpoint folder: the sizes from <c>config.json</c>, the vocabulary from <c>vocab.txt</c> (lower-casing
    /// as <c>tokenizer_config.json</c>'s <c>do_lower_case</c> says, default on), the weights from
    /// <c>model.safetensors</c> (else <c>pytorch_model.bin</c>). Keys may carry the <c>bert.</c> prefix of
    /// <c>BertForMaskedLM</c>/<c>BertForPreTraining</c>; the next-sentence head is ignored; an MLM head that the file
    /// lacks keeps its random initialisation.
    /// </summary>
    /// <param name="folder">The checkpoint folder.</param>
    /// <param name="dropout">Dropout while fine-tuning; null for the checkpoint's <c>hidden_dropout_prob</c>.</param>
    public static PretrainedBert Load(string folder, double? dropout = null)
    {
        folder = Path.GetFullPath(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"Checkpoint folder {folder} does not exist.");
        var config = ReadConfig(Path.Combine(folder, "config.json"));
        if (dropout is { } d) config = config with { Dropout = d };
        string vocab = Path.Combine(folder, "vocab.txt");
        if (!File.Exists(vocab)) throw new FileNotFoundException($"The checkpoint has no vocab.txt in {folder}.", vocab);
        var tokenizer = new WordPieceTokenizer(File.ReadLines(vocab, Encoding.UTF8).Select(l => l.TrimEnd('\r')), ReadLowercase(folder));
        if (tokenizer.VocabSize != config.VocabSize)
            throw new InvalidDataException($"vocab.txt has {tokenizer.VocabSize} tokens but config.json says vocab_size {config.VocabSize}.");
        var state = ReadWeights(folder);
        var bert = new Bert(config);
        try { LoadInto(bert, state, requireHead: false, requirePooler: false); }
        finally { foreach (var t in state.Values) t.Dispose(); }
        return new PretrainedBert(bert, tokenizer);
    }

    /// <summary>
    /// Writes a checkpoint folder that <see cref="Load"/> and Hugging Face's <c>BertModel.from_pretrained</c> read:
    /// <c>config.json</c>, <c>vocab.txt</c>, <c>tokenizer_config.json</c> and <c>model.safetensors</c> (all parameters,
    /// Hugging Face names, float32).
    /// </summary>
    public static void Save(PretrainedBert pretrained, string folder)
    {
        Directory.CreateDirectory(folder);
        var (bert, tokenizer) = (pretrained.Model, pretrained.Tokenizer);
        var c = bert.Config;
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("BertForMaskedLM"),
            ["model_type"] = "bert",
            ["vocab_size"] = c.VocabSize,
            ["hidden_size"] = c.Hidden,
            ["num_hidden_layers"] = c.Layers,
            ["num_attention_heads"] = c.Heads,
            ["intermediate_size"] = c.Intermediate,
            ["max_position_embeddings"] = c.MaxPositions,
            ["type_vocab_size"] = c.TypeVocabSize,
            ["hidden_dropout_prob"] = c.Dropout,
            ["attention_probs_dropout_prob"] = c.Dropout,
            ["layer_norm_eps"] = c.LayerNormEps,
            ["hidden_act"] = "gelu",
            ["pad_token_id"] = tokenizer.PadId,
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        File.WriteAllLines(Path.Combine(folder, "vocab.txt"), Enumerable.Range(0, tokenizer.VocabSize).Select(tokenizer.Token), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"),
            new JsonObject { ["do_lower_case"] = tokenizer.Lowercase }.ToJsonString() + "\n");
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in bert.named_parameters()) state[name] = p.detach().to(ScalarType.Float32).cpu().contiguous();
        try { Safetensors.SaveStateDict(Path.Combine(folder, "model.safetensors"), state); }
        finally { foreach (var t in state.Values) t.Dispose(); }
    }

    /// <summary>
    /// Copies Hugging Face–named weights into a <see cref="Bert"/>: every key must name one of its parameters with the
    /// same shape (a <c>bert.</c> prefix is removed; <c>cls.seq_relationship.*</c>, the tied <c>cls.predictions.decoder.*</c>
    /// and <c>position_ids</c> buffers are skipped); every encoder parameter must be given.
    /// </summary>
    /// <param name="bert">The model to fill.</param>
    /// <param name="state">Name → tensor.</param>
    /// <param name="requireHead">Also require the MLM head (<c>cls.predictions.*</c>).</param>
    /// <param name="requirePooler">Also require the pooler (<c>pooler.dense.*</c>).</param>
    public static void LoadInto(Bert bert, IReadOnlyDictionary<string, Tensor> state, bool requireHead, bool requirePooler)
    {
        var parameters = bert.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        var given = new HashSet<string>(StringComparer.Ordinal);
        var unknown = new List<string>();
        using var noGrad = torch.no_grad();
        foreach (var (rawName, tensor) in state)
        {
            string name = rawName.StartsWith("bert.", StringComparison.Ordinal) ? rawName["bert.".Length..] : rawName;
            if (name.StartsWith("cls.seq_relationship.", StringComparison.Ordinal) || name.StartsWith("cls.predictions.decoder.", StringComparison.Ordinal)
                || name.EndsWith("position_ids", StringComparison.Ordinal)) continue;
            // Old TensorFlow-converted checkpoints name layer norms gamma/beta.
            name = name.Replace("LayerNorm.gamma", "LayerNorm.weight").Replace("LayerNorm.beta", "LayerNorm.bias");
            if (!parameters.TryGetValue(name, out var p)) { unknown.Add(rawName); continue; }
            if (!p.shape.SequenceEqual(tensor.shape))
                throw new InvalidDataException($"{rawName} has shape [{string.Join(", ", tensor.shape)}] but the model's {name} is [{string.Join(", ", p.shape)}].");
            p.copy_(tensor);
            given.Add(name);
        }
        if (unknown.Count > 0) throw new InvalidDataException($"Weights the BERT has no parameter for: {string.Join(", ", unknown.Take(10))}{(unknown.Count > 10 ? ", …" : "")}.");
        var missing = parameters.Keys.Where(n => !given.Contains(n)
            && (requireHead || !n.StartsWith("cls.", StringComparison.Ordinal))
            && (requirePooler || !n.StartsWith("pooler.", StringComparison.Ordinal))).ToList();
        if (missing.Count > 0) throw new InvalidDataException($"Weights missing for: {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")}.");
    }

    private static BertConfig ReadConfig(string file)
    {
        if (!File.Exists(file)) throw new FileNotFoundException($"The checkpoint has no config.json ({file}).", file);
        var json = JsonNode.Parse(File.ReadAllText(file)) as JsonObject ?? throw new InvalidDataException($"{file} is not a JSON object.");
        string? type = json["model_type"]?.GetValue<string>();
        if (type is not null && type != "bert") throw new InvalidDataException($"{file}: model_type is '{type}', not 'bert'.");
        string act = json["hidden_act"]?.GetValue<string>() ?? "gelu";
        if (act != "gelu") throw new InvalidDataException($"{file}: hidden_act '{act}' is not supported (the course's Bert uses the exact GELU).");
        int Int(string key) => json[key]?.GetValue<int>() ?? throw new InvalidDataException($"{file} has no '{key}'.");
        return new BertConfig(Int("vocab_size"), Int("hidden_size"), Int("num_hidden_layers"), Int("num_attention_heads"),
            Int("intermediate_size"), Int("max_position_embeddings"), json["type_vocab_size"]?.GetValue<int>() ?? 2,
            json["hidden_dropout_prob"]?.GetValue<double>() ?? 0.1, json["layer_norm_eps"]?.GetValue<double>() ?? 1e-12);
    }

    private static bool ReadLowercase(string folder)
    {
        string file = Path.Combine(folder, "tokenizer_config.json");
        if (!File.Exists(file)) return true;
        return (JsonNode.Parse(File.ReadAllText(file)) as JsonObject)?["do_lower_case"]?.GetValue<bool>() ?? true;
    }

    private static Dictionary<string, Tensor> ReadWeights(string folder)
    {
        string safetensors = Path.Combine(folder, "model.safetensors");
        if (File.Exists(safetensors)) return Safetensors.LoadStateDict(safetensors);
        string pickle = Path.Combine(folder, "pytorch_model.bin");
        if (File.Exists(pickle))
        {
            var table = PyTorchUnpickler.UnpickleStateDict(pickle);
            var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (DictionaryEntry e in table) if (e.Value is Tensor t) result[(string)e.Key] = t;
            return result;
        }
        throw new FileNotFoundException($"The checkpoint in {folder} has neither model.safetensors nor pytorch_model.bin.");
    }
}

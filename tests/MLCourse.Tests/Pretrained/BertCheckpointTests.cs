using MLCourse.Models;
using MLCourse.Pretrained;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Pretrained;

public class BertCheckpointTests
{
    private static string TempFolder() => Directory.CreateTempSubdirectory("mlcourse-bert-").FullName;

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private static Tensor Hidden(Bert bert, Tensor ids, Tensor mask)
    {
        bert.eval();
        using var noGrad = torch.no_grad();
        return bert.call(ids, mask);
    }

    [Fact]
    public void A_saved_checkpoint_loads_back_with_identical_outputs()
    {
        Course.Seed(7);
        string[] vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Enumerable.Range(0, 45).Select(i => $"w{i}")];
        var config = new BertConfig(VocabSize: 50, Hidden: 16, Layers: 2, Heads: 2, Intermediate: 32, MaxPositions: 12, Dropout: 0.1);
        using var bert = new Bert(config);
        string folder = TempFolder();
        try
        {
            BertCheckpoint.Save(new PretrainedBert(bert, new WordPieceTokenizer(vocabulary)), folder);
            Assert.True(File.Exists(Path.Combine(folder, "model.safetensors")));
            var loaded = BertCheckpoint.Load(folder);
            Assert.Equal(config, loaded.Model.Config);
            Assert.Equal(vocabulary, Enumerable.Range(0, loaded.Tokenizer.VocabSize).Select(loaded.Tokenizer.Token));
            var ids = torch.randint(5, 50, new long[] { 3, 9 }, dtype: ScalarType.Int64);
            var mask = torch.ones(3, 9, dtype: ScalarType.Int64);
            mask[2, TensorIndex.Slice(6)] = torch.tensor(0L);
            var a = Hidden(bert, ids, mask);
            var b = Hidden(loaded.Model, ids, mask);
            Assert.True(Same(a, b), "outputs changed through save → load");
            Assert.True(Same(bert.MlmLogits(a), loaded.Model.MlmLogits(b)), "MLM head changed through save → load");
            // A fresh model of the same size differs: the load did something.
            using var fresh = new Bert(config);
            Assert.False(Hidden(fresh, ids, mask).allclose(a, rtol: 0, atol: 1e-3));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Hugging_face_prefixes_and_heads_map_by_name_and_wrong_weights_are_refused()
    {
        Course.Seed(8);
        var config = new BertConfig(VocabSize: 20, Hidden: 8, Layers: 1, Heads: 2, Intermediate: 16, MaxPositions: 8);
        using var source = new Bert(config);
        // As BertForPreTraining writes them: "bert." prefix, an NSP head and the tied decoder weight.
        var state = source.named_parameters().ToDictionary(p => p.name.StartsWith("cls.") ? p.name : "bert." + p.name, p => p.parameter.detach().clone());
        state["cls.seq_relationship.weight"] = torch.zeros(2, 8);
        state["cls.predictions.decoder.weight"] = torch.zeros(20, 8);
        using var target = new Bert(config);
        BertCheckpoint.LoadInto(target, state, requireHead: true, requirePooler: true);
        foreach (var (name, p) in target.named_parameters())
            Assert.True(Same(p, source.named_parameters().Single(q => q.name == name).parameter), name);

        var wrongShape = new Dictionary<string, Tensor>(state) { ["bert.pooler.dense.weight"] = torch.zeros(8, 7) };
        Assert.Contains("pooler.dense.weight", Assert.Throws<InvalidDataException>(() => BertCheckpoint.LoadInto(target, wrongShape, true, true)).Message);
        var unknown = new Dictionary<string, Tensor>(state) { ["bert.encoder.layer.1.output.dense.weight"] = torch.zeros(8, 16) };
        Assert.Contains("layer.1", Assert.Throws<InvalidDataException>(() => BertCheckpoint.LoadInto(target, unknown, true, true)).Message);
        var missing = new Dictionary<string, Tensor>(state);
        missing.Remove("bert.encoder.layer.0.attention.self.key.bias");
        Assert.Contains("attention.self.key.bias", Assert.Throws<InvalidDataException>(() => BertCheckpoint.LoadInto(target, missing, false, false)).Message);
        Assert.Throws<DirectoryNotFoundException>(() => BertCheckpoint.Load(Path.Combine(Path.GetTempPath(), "no-such-checkpoint-" + Guid.NewGuid())));
    }

    [Fact]
    public void A_minilm_checkpoint_exported_from_the_onnx_weights_loads_as_the_same_model()
    {
        using var minilm = MiniLM.Load();
        var tokenizer = MiniLM.Tokenizer();
        string folder = TempFolder();
        try
        {
            BertCheckpoint.Save(new PretrainedBert(minilm, tokenizer), folder);
            var loaded = BertCheckpoint.Load(folder);
            Assert.Equal(MiniLM.Config, loaded.Model.Config);
            Assert.Equal(tokenizer.Encode("An unwatchable, overlong film."), loaded.Tokenizer.Encode("An unwatchable, overlong film."));
            long[] row = [tokenizer.ClsId, .. tokenizer.Encode("A wonderful, moving film.").Select(i => (long)i), tokenizer.SepId];
            var ids = torch.tensor(row).unsqueeze(0);
            var mask = torch.ones_like(ids);
            Assert.True(Same(Hidden(minilm, ids, mask), Hidden(loaded.Model, ids, mask)));
            foreach (var (name, p) in loaded.Model.named_parameters())
                Assert.True(Same(p, minilm.named_parameters().Single(q => q.name == name).parameter), name);
        }
        finally { Directory.Delete(folder, recursive: true); }
    }
}

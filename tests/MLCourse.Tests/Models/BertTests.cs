using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class BertTests
{
    private static readonly BertConfig Small = new(VocabSize: 50, Hidden: 16, Layers: 2, Heads: 2, Intermediate: 32, MaxPositions: 12);

    [Fact]
    public void Parameter_counts_match_the_config_and_bert_base_has_its_110_million()
    {
        foreach (var config in BertConfig.Presets.Values.Where(c => c.Hidden <= 128).Append(Small))
        {
            using var bert = new Bert(config);
            long counted = bert.parameters().Sum(p => p.numel());
            Assert.Equal(config.ParameterCount() + config.MlmHeadParameterCount(), counted);
        }
        // bert-base-uncased: 109,482,240 parameters in the encoder with its pooler (as Hugging Face's BertModel counts).
        Assert.Equal(109_482_240, BertConfig.Presets["bert-base"].ParameterCount());
        // bert-tiny: 4,385,920 (Turc et al. call it 4.4M).
        Assert.Equal(4_385_920, BertConfig.Presets["bert-tiny"].ParameterCount());
    }

    [Fact]
    public void Shapes_of_hidden_states_pooled_output_mlm_logits_and_class_logits()
    {
        Course.Seed(0);
        using var bert = new Bert(Small);
        var ids = torch.randint(0, 50, new long[] { 3, 7 }, dtype: ScalarType.Int64);
        var mask = torch.ones(3, 7, dtype: ScalarType.Int64);
        var hidden = bert.call(ids, mask);
        Assert.Equal(new long[] { 3, 7, 16 }, hidden.shape);
        Assert.Equal(new long[] { 3, 16 }, bert.Pooled(hidden).shape);
        Assert.Equal(new long[] { 3, 7, 50 }, bert.MlmLogits(hidden).shape);
        using var classifier = new BertClassifier(Small, classes: 3);
        Assert.Equal(new long[] { 3, 3 }, classifier.call(ids, mask).shape);
        Assert.Throws<ArgumentException>(() => bert.call(torch.zeros(1, 13, dtype: ScalarType.Int64), torch.ones(1, 13)));
    }

    [Fact]
    public void Padded_positions_do_not_change_the_output_at_real_positions()
    {
        Course.Seed(1);
        using var classifier = new BertClassifier(Small);
        classifier.eval();
        var ids = torch.randint(5, 50, new long[] { 2, 9 }, dtype: ScalarType.Int64);
        var mask = torch.ones(2, 9, dtype: ScalarType.Int64);
        mask[0, TensorIndex.Slice(5)] = torch.tensor(0L);
        var changed = ids.clone();
        changed[0, TensorIndex.Slice(5)] = torch.randint(5, 50, new long[] { 4 }, dtype: ScalarType.Int64);
        using var noGrad = torch.no_grad();
        var a = classifier.call(ids, mask);
        var b = classifier.call(changed, mask);
        Assert.True(a.allclose(b, rtol: 0, atol: 1e-6), "the logits depend on padded tokens");
        var hiddenA = classifier.Encoder.call(ids, mask)[0, TensorIndex.Slice(0, 5)];
        var hiddenB = classifier.Encoder.call(changed, mask)[0, TensorIndex.Slice(0, 5)];
        Assert.True(hiddenA.allclose(hiddenB, rtol: 0, atol: 1e-6));
        // …while without the mask they do.
        var full = torch.ones(2, 9, dtype: ScalarType.Int64);
        Assert.False(classifier.call(ids, full).allclose(classifier.call(changed, full), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void The_mlm_head_shares_the_token_embedding()
    {
        Course.Seed(2);
        using var bert = new Bert(Small);
        bert.eval();
        var hidden = torch.randn(4, 16);
        var before = bert.MlmLogits(hidden).detach().clone();
        using (torch.no_grad()) bert.TokenEmbeddingWeight[7].add_(torch.randn(16));   // not a constant: the layer-normed h sums to 0
        var after = bert.MlmLogits(hidden).detach();
        var changedColumns = (after - before).abs().max(0).values.gt(1e-6).nonzero().reshape(-1);
        Assert.Equal(new long[] { 7 }, changedColumns.data<long>().ToArray());
    }

    [Fact]
    public void Mlm_pretraining_and_classification_overfit_a_tiny_batch()
    {
        Course.Seed(3);
        var config = Small with { Dropout = 0 };
        using var bert = new Bert(config);
        var ids = torch.randint(5, 50, new long[] { 4, 10 }, dtype: ScalarType.Int64);
        var mask = torch.ones(4, 10, dtype: ScalarType.Int64);
        var labels = torch.full(4, 10, -100L, dtype: ScalarType.Int64);
        var corrupted = ids.clone();
        for (int row = 0; row < 4; row++)
        {
            labels[row, 2 + row] = ids[row, 2 + row];
            corrupted[row, 2 + row] = torch.tensor(4L);
        }
        var optimizer = new MLCourse.Training.Adam(bert.parameters(), 0.01, fused: false);
        float first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = bert.MlmLoss(corrupted, mask, labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.True(first > 3.0f && last < 0.1f, $"MLM loss {first} → {last}");

        using var classifier = new BertClassifier(config);
        var y = torch.tensor(new long[] { 0, 1, 1, 0 });
        var adam = new MLCourse.Training.Adam(classifier.parameters(), 0.01, fused: false);
        for (int step = 0; step < 40; step++)
        {
            using var scope = torch.NewDisposeScope();
            var loss = nn.functional.cross_entropy(classifier.call(ids, mask), y);
            adam.zero_grad();
            loss.backward();
            adam.step();
        }
        classifier.eval();
        using var noGrad = torch.no_grad();
        Assert.Equal(y.data<long>().ToArray(), classifier.call(ids, mask).argmax(1).data<long>().ToArray());
    }

    [Fact]
    public void Parameter_names_are_hugging_face_bert_keys()
    {
        using var bert = new Bert(BertConfig.Presets["bert-tiny"]);
        var names = bert.named_parameters().Select(p => p.name).ToHashSet();
        // The state_dict keys of Hugging Face's BertModel (bert-base-uncased without the "bert." prefix) …
        var expected = new List<string>
        {
            "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight", "embeddings.token_type_embeddings.weight",
            "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias", "pooler.dense.weight", "pooler.dense.bias",
        };
        for (int i = 0; i < 2; i++)
            foreach (string part in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
                                             "attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm" })
                expected.AddRange([$"encoder.layer.{i}.{part}.weight", $"encoder.layer.{i}.{part}.bias"]);
        // … plus BertForMaskedLM's head (its decoder weight is tied to the word embeddings, so not a parameter of its own).
        expected.AddRange(["cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
                           "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias", "cls.predictions.bias"]);
        Assert.Equal(expected.Order(), names.Order());
        var shapes = bert.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(new long[] { 512, 128 }, shapes["encoder.layer.1.intermediate.dense.weight"]);   // PyTorch's [out, in]
    }

    [Fact]
    public void Initialisation_goes_by_module_type()
    {
        Course.Seed(4);
        using var bert = new Bert(BertConfig.Presets["bert-tiny"]);
        foreach (var (name, module) in bert.named_modules())
        {
            switch (module)
            {
                case TorchSharp.Modules.LayerNorm norm:
                    Assert.True(norm.weight!.eq(1).all().item<bool>(), name);
                    Assert.True(norm.bias!.eq(0).all().item<bool>(), name);
                    break;
                case TorchSharp.Modules.Linear linear:
                    Assert.True(linear.bias!.eq(0).all().item<bool>(), name);
                    Assert.InRange(linear.weight!.std().item<float>(), 0.018f, 0.022f);
                    break;
                case TorchSharp.Modules.Embedding embedding:
                    Assert.InRange(embedding.weight!.std().item<float>(), 0.015f, 0.025f);
                    break;
            }
        }
        Assert.True(bert.named_parameters().Single(p => p.name == "cls.predictions.bias").parameter.eq(0).all().item<bool>());
    }

    [Fact]
    public void Mlm_loss_without_masked_tokens_is_zero_not_nan_and_backpropagates()
    {
        Course.Seed(5);
        using var bert = new Bert(Small);
        var ids = torch.randint(5, 50, new long[] { 2, 6 }, dtype: ScalarType.Int64);
        var mask = torch.ones(2, 6, dtype: ScalarType.Int64);
        var loss = bert.MlmLoss(ids, mask, torch.full(2, 6, -100L, dtype: ScalarType.Int64));
        Assert.Equal(0f, loss.item<float>());
        loss.backward();
        Assert.All(bert.parameters(), p => Assert.True(p.grad is null || p.grad.eq(0).all().item<bool>()));
        // With one masked position the loss is that position's cross-entropy (a mean over one).
        var labels = torch.full(2, 6, -100L, dtype: ScalarType.Int64);
        labels[1, 3] = ids[1, 3];
        using var noGrad = torch.no_grad();
        bert.eval();
        var one = bert.MlmLoss(ids, mask, labels).item<float>();
        var logits = bert.MlmLogits(bert.call(ids, mask))[1, 3];
        var expected = nn.functional.cross_entropy(logits.unsqueeze(0), ids[1, 3].unsqueeze(0)).item<float>();
        Assert.Equal(expected, one, 4);
    }

    [Fact]
    public void The_mask_bias_is_the_dtypes_most_negative_finite_value_and_an_all_padding_row_stays_finite()
    {
        var mask = torch.tensor(new long[] { 1, 1, 0 }).unsqueeze(0);
        var bias32 = Bert.AttentionBias(mask);
        Assert.Equal(new long[] { 1, 1, 1, 3 }, bias32.shape);
        Assert.Equal(new[] { 0f, 0f, float.MinValue }, bias32.reshape(-1).data<float>().ToArray());
        var bias64 = Bert.AttentionBias(mask, ScalarType.Float64);
        Assert.Equal(double.MinValue, bias64.reshape(-1)[2].item<double>());
        Course.Seed(6);
        using var bert = new Bert(Small);
        bert.eval();
        using var noGrad = torch.no_grad();
        var ids = torch.randint(5, 50, new long[] { 2, 4 }, dtype: ScalarType.Int64);
        var masks = torch.tensor(new long[,] { { 1, 1, 1, 0 }, { 0, 0, 0, 0 } });
        var hidden = bert.call(ids, masks);
        Assert.True(hidden.isfinite().all().item<bool>(), "an all-padding row gave NaN or ∞");
        bert.to(ScalarType.Float64);
        Assert.True(bert.call(ids, masks).isfinite().all().item<bool>(), "float64: NaN or ∞");
    }
}

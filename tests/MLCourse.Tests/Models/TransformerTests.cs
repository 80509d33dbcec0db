using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class TransformerTests
{
    private static readonly TransformerConfig Small = new(SourceVocab: 7, TargetVocab: 9, DModel: 16, Heads: 4,
                                                          EncoderLayers: 2, DecoderLayers: 2, FeedForward: 32, MaxLength: 12);

    [Fact]
    public void It_counts_its_parameters_and_produces_the_documented_shapes()
    {
        torch.manual_seed(0);
        var model = new Seq2SeqTransformer(Small);
        Assert.Equal(model.parameters().Sum(p => p.numel()), Small.ParameterCount());

        var source = torch.randint(1, 7, new long[] { 3, 5 });
        var target = torch.randint(1, 9, new long[] { 3, 6 });
        using var memory = model.Encode(source);
        Assert.Equal(new long[] { 3, 5, 16 }, memory.shape);
        using var logits = model.call(source, target);
        Assert.Equal(new long[] { 3, 6, 9 }, logits.shape);
        using var generated = model.Generate(source, bos: 1, eos: 2, maxLength: 7);
        Assert.Equal(3, generated.shape[0]);
        Assert.InRange(generated.shape[1], 1, 7);
    }

    [Fact]
    public void Sinusoidal_positions_follow_the_formula()
    {
        using var pe = Seq2SeqTransformer.SinusoidalPositions(10, 6);
        Assert.Equal(new long[] { 10, 6 }, pe.shape);
        for (int pos = 0; pos < 10; pos++)
            for (int i = 0; i < 3; i++)
            {
                double angle = pos / Math.Pow(10000, 2.0 * i / 6);
                Assert.Equal(Math.Sin(angle), pe[pos, 2 * i].item<float>(), 4);
                Assert.Equal(Math.Cos(angle), pe[pos, 2 * i + 1].item<float>(), 4);
            }
    }

    [Fact]
    public void The_causal_mask_stops_the_decoder_from_peeking_at_later_tokens()
    {
        torch.manual_seed(1);
        var model = new Seq2SeqTransformer(Small);
        model.eval();
        var source = torch.randint(1, 7, new long[] { 2, 5 });
        var target = torch.randint(1, 9, new long[] { 2, 6 });
        var changed = target.clone();
        changed[.., 4] = (changed[.., 4] % 8) + 1;                       // a different token at position 4
        using var before = model.call(source, target);
        using var after = model.call(source, changed);
        double early = (before[.., ..4] - after[.., ..4]).abs().max().item<float>();
        double late = (before[.., 4..] - after[.., 4..]).abs().max().item<float>();
        Assert.Equal(0.0, early, 6);                                      // positions 0..3 never saw position 4
        Assert.True(late > 1e-3, $"positions 4.. should react to the change, max difference {late}");
    }

    [Fact]
    public void Padding_in_the_source_is_ignored()
    {
        torch.manual_seed(2);
        var model = new Seq2SeqTransformer(Small);
        model.eval();
        var source = torch.tensor(new long[,] { { 3, 4, 5, 0, 0 } });
        var longer = torch.tensor(new long[,] { { 3, 4, 5, 0, 0, 0, 0 } });
        var target = torch.tensor(new long[,] { { 1, 6, 7 } });
        using var a = model.call(source, target);
        using var b = model.call(longer, target);
        Assert.True(torch.allclose(a, b, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Multi_head_attention_matches_TorchSharps_built_in_module_with_the_same_weights()
    {
        torch.manual_seed(3);
        var ours = new MultiHeadAttention(dModel: 8, heads: 2);
        var reference = nn.MultiheadAttention(8, 2);
        var p = ours.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        var r = reference.named_parameters().ToDictionary(kv => kv.name, kv => kv.parameter);
        using (torch.no_grad())
        {
            r["in_proj_weight"].copy_(torch.cat([p["query.weight"], p["key.weight"], p["value.weight"]], 0));
            r["in_proj_bias"].copy_(torch.cat([p["query.bias"], p["key.bias"], p["value.bias"]], 0));
            r["out_proj.weight"].copy_(p["output.weight"]);
            r["out_proj.bias"].copy_(p["output.bias"]);
        }
        var x = torch.randn(3, 5, 8);                                     // (B, T, d)
        var memory = torch.randn(3, 4, 8);                                // (B, S, d)
        ours.KeepWeights = true;
        using var y = ours.call(x, memory, null);
        var (expected, weights) = reference.call(x.transpose(0, 1), memory.transpose(0, 1), memory.transpose(0, 1));  // (T, B, d) layout
        Assert.True(torch.allclose(y, expected.transpose(0, 1), rtol: 1e-4, atol: 1e-5));
        Assert.True(torch.allclose(ours.LastWeights!.mean(new long[] { 1 }), weights, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void A_tiny_model_learns_to_copy_short_sequences()
    {
        torch.manual_seed(4);
        // tokens: 0 pad, 1 BOS, 2 EOS, 3..6 content; 12 random sequences of length 4
        var content = torch.randint(3, 7, new long[] { 12, 4 });
        var source = content;
        var targetInput = torch.cat([torch.ones(12, 1, dtype: int64), content], 1);          // BOS + content
        var targetOutput = torch.cat([content, torch.full(new long[] { 12, 1 }, 2L, dtype: int64)], 1);    // content + EOS
        var model = new Seq2SeqTransformer(new TransformerConfig(SourceVocab: 7, TargetVocab: 7, DModel: 32, Heads: 2,
                                                                EncoderLayers: 1, DecoderLayers: 1, FeedForward: 64, MaxLength: 8));
        var optimizer = new MLCourse.Training.Adam(model.parameters(), 0.003, fused: false);
        for (int step = 0; step < 400; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var logits = model.call(source, targetInput);                                     // (12, 5, 7)
            var loss = nn.functional.cross_entropy(logits.reshape(-1, 7), targetOutput.reshape(-1));
            loss.backward();
            optimizer.step();
        }
        model.eval();
        using var generated = model.Generate(source, bos: 1, eos: 2, maxLength: 6);
        Assert.Equal(new long[] { 12, 5 }, generated.shape);
        long right = generated.eq(targetOutput).all(1).sum().item<long>();
        Assert.True(right == 12, $"greedy decoding should reproduce every training sequence followed by EOS, got {right} of 12");
    }

    [Fact]
    public void Generate_decodes_without_dropout_and_gives_the_model_back_in_its_mode()
    {
        torch.manual_seed(6);
        var model = new Seq2SeqTransformer(Small with { Dropout = 0.5 });
        var source = torch.randint(1, 7, new long[] { 4, 6 });
        model.eval();
        using var reference = model.Generate(source, bos: 1, eos: 2, maxLength: 8);
        model.train();                                                          // the caller forgot eval()
        for (int i = 0; i < 3; i++)
        {
            using var again = model.Generate(source, bos: 1, eos: 2, maxLength: 8);
            Assert.Equal(reference.shape, again.shape);                          // generation in training mode = in evaluation mode
            Assert.Equal(reference.data<long>().ToArray(), again.data<long>().ToArray());
        }
        Assert.True(model.training);
        model.eval();
        using var _ = model.Generate(source, bos: 1, eos: 2, maxLength: 8);
        Assert.False(model.training);
    }

    [Fact]
    public void A_source_of_padding_only_gives_numbers_not_NaN()
    {
        // Masked scores are torch.finfo(dtype).min, as Hugging Face masks: a row whose keys are all hidden gets equal
        // weights; with −∞ its softmax is 0/0 = NaN, which then spreads to every position that attends to it.
        torch.manual_seed(7);
        var model = new Seq2SeqTransformer(Small);
        model.eval();
        var source = torch.tensor(new long[,] { { 3, 4, 5, 0 }, { 0, 0, 0, 0 } });
        var target = torch.tensor(new long[,] { { 1, 6, 7 }, { 1, 6, 7 } });
        using var logits = model.call(source, target);
        Assert.False(logits.isnan().any().item<bool>(), "NaN in the logits of a batch with an all-padding source");
        using var generated = model.Generate(source, bos: 1, eos: 2, maxLength: 4);
        Assert.Equal(2, generated.shape[0]);
    }
}

using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class GptTests
{
    private static readonly GptConfig Small = new(VocabSize: 12, Hidden: 16, Layers: 2, Heads: 2, Intermediate: 32, Context: 10, Dropout: 0);

    [Fact]
    public void Parameter_count_and_shapes()
    {
        Course.Seed(0);
        using var gpt = new Gpt(Small);
        Assert.Equal(Small.ParameterCount(), gpt.parameters().Sum(p => p.numel()));
        Assert.Equal(new long[] { 3, 7, 12 }, gpt.call(torch.randint(0, 12, new long[] { 3, 7 }, dtype: ScalarType.Int64)).shape);
        Assert.Throws<ArgumentException>(() => gpt.call(torch.zeros(1, 11, dtype: ScalarType.Int64)));
    }

    [Fact]
    public void A_position_does_not_see_the_future()
    {
        Course.Seed(1);
        using var gpt = new Gpt(Small);
        gpt.eval();
        using var noGrad = torch.no_grad();
        var ids = torch.randint(0, 12, new long[] { 2, 8 }, dtype: ScalarType.Int64);
        var changed = ids.clone();
        changed[TensorIndex.Colon, TensorIndex.Slice(5)] = torch.randint(0, 12, new long[] { 2, 3 }, dtype: ScalarType.Int64);
        var a = gpt.call(ids);
        var b = gpt.call(changed);
        Assert.True(a.narrow(1, 0, 5).allclose(b.narrow(1, 0, 5), rtol: 0, atol: 1e-6), "positions 0–4 changed when only 5–7 did");
        Assert.False(a.narrow(1, 5, 3).allclose(b.narrow(1, 5, 3), rtol: 0, atol: 1e-6));
        Assert.Equal(0f, Gpt.CausalBias(3)[0, 0, 2, 1].item<float>());
        Assert.True(Gpt.CausalBias(3)[0, 0, 1, 2].item<float>() < -1e8);
    }

    [Fact]
    public void It_learns_a_cyclic_sequence_and_generates_it_at_low_temperature()
    {
        Course.Seed(2);
        using var gpt = new Gpt(Small);
        var cycle = Enumerable.Range(0, 40).Select(i => (long)(i % 5 + 3)).ToArray();       // 3 4 5 6 7 3 4 5 6 7 …
        var batch = torch.stack(Enumerable.Range(0, 5).Select(s => torch.tensor(cycle.Skip(s).Take(10).ToArray())).ToArray());
        var optimizer = new MLCourse.Training.Adam(gpt.parameters(), 0.01, fused: false);
        float loss = float.NaN;
        for (int step = 0; step < 80; step++)
        {
            using var scope = torch.NewDisposeScope();
            var l = gpt.Loss(batch);
            optimizer.zero_grad();
            l.backward();
            optimizer.step();
            loss = l.item<float>();
        }
        Assert.True(loss < 0.05f, $"loss {loss}");
        Assert.Equal(new long[] { 6, 7, 3, 4, 5, 6, 7, 3 }, gpt.Generate([3, 4, 5], 8, temperature: 0.1, seed: 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => gpt.Generate([3], 1, temperature: 0));
    }

    [Fact]
    public void The_causal_bias_is_zero_up_to_the_diagonal_and_the_dtypes_lowest_value_above()
    {
        using var bias = Gpt.CausalBias(4);
        Assert.Equal(new long[] { 1, 1, 4, 4 }, bias.shape);
        float lowest = (float)torch.finfo(ScalarType.Float32).min;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                Assert.Equal(j > i ? lowest : 0f, bias[0, 0, i, j].item<float>());
        using var half = Gpt.CausalBias(3, dtype: ScalarType.Float64);
        Assert.Equal(torch.finfo(ScalarType.Float64).min, half[0, 0, 0, 2].item<double>());
    }

    [Fact]
    public void Weights_start_by_module_type()
    {
        Course.Seed(8);
        using var gpt = new Gpt(Small with { Hidden = 64, Intermediate = 128, VocabSize = 50 });
        int linears = 0, norms = 0, embeddings = 0;
        // modules() can list a module more than once (BertLayer nests Hugging Face-named containers); count each once.
        foreach (var module in gpt.modules().Distinct(ReferenceEqualityComparer.Instance).Cast<nn.Module>())
        {
            switch (module)
            {
                case TorchSharp.Modules.Linear linear:
                    linears++;
                    Assert.Equal(0.02, linear.weight!.std().item<float>(), 2);
                    Assert.Equal(0f, linear.bias!.abs().max().item<float>());
                    break;
                case TorchSharp.Modules.Embedding embedding:
                    embeddings++;
                    Assert.Equal(0.02, embedding.weight!.std().item<float>(), 2);
                    break;
                case TorchSharp.Modules.LayerNorm norm:
                    norms++;
                    Assert.True(norm.weight!.eq(1).all().item<bool>() && norm.bias!.eq(0).all().item<bool>(), "a layer norm is not γ = 1, β = 0");
                    break;
            }
        }
        Assert.Equal((12, 5, 2), (linears, norms, embeddings));           // 6 linear layers and 2 norms per layer, 2 layers
    }
}

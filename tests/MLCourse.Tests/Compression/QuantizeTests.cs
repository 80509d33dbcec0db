using MLCourse.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Compression;

public class QuantizeTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Uniform_uses_at_most_two_to_the_bits_levels_and_errs_by_at_most_half_a_step(int bits)
    {
        Course.Seed(bits);
        var w = torch.randn(64, 32);
        using var q = Quantize.Uniform(w, bits);
        double min = w.min().item<float>(), max = w.max().item<float>();
        double step = (max - min) / ((1 << bits) - 1);
        long levels = torch.unique(q).Item1.numel();
        Assert.True(levels <= 1 << bits, $"{levels} distinct values for {bits} bits");
        Assert.True((q - w).abs().max().item<float>() <= step / 2 + 1e-5);
        Assert.Equal(min, q.min().item<float>(), 5);
        Assert.Equal(max, q.max().item<float>(), 5);
    }

    [Fact]
    public void Two_bits_round_to_four_known_levels()
    {
        var w = torch.tensor(new float[] { 0f, 0.2f, 0.4f, 0.55f, 0.9f, 3f });
        using var q = Quantize.Uniform(w, 2);                      // levels 0, 1, 2, 3
        Assert.Equal(new float[] { 0, 0, 0, 1, 1, 3 }, q.data<float>().ToArray());
    }

    [Fact]
    public void Weights_are_quantised_in_place_and_the_size_counts_bits()
    {
        Course.Seed(3);
        var net = nn.Sequential(("0", nn.Linear(10, 6)), ("1", nn.Linear(6, 2)));
        Quantize.Weights(net, 2);
        var weight = net.named_parameters().First(p => p.name == "0.weight").parameter;
        Assert.True(torch.unique(weight).Item1.numel() <= 4);
        Assert.True(torch.unique(net.named_parameters().First(p => p.name == "0.bias").parameter).Item1.numel() > 4 - 0);
        // weights: (60 + 12)·8 bits + 2·64 bits; biases: 8·32 bits
        Assert.Equal(((60 + 12) * 8 + 128 + 8 * 32) / 8, Quantize.SizeInBytes(net, 8));
    }
}

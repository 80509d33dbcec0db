using MLCourse.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Compression;

public class PruneTests
{
    [Fact]
    public void The_mask_zeroes_exactly_the_smallest_magnitudes()
    {
        var w = torch.tensor(new float[] { 0.1f, -5f, 0.3f, -0.2f, 4f, 0.05f }).reshape(2, 3);
        using var mask = Prune.ByMagnitude(w, 0.5);
        Assert.Equal(new long[] { 2, 3 }, mask.shape);
        Assert.Equal(new float[] { 0, 1, 1, 0, 1, 0 }, mask.flatten().data<float>().ToArray());
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(0.9)]
    [InlineData(1.0)]
    public void Pruning_a_network_reaches_the_requested_sparsity_and_leaves_biases_alone(double sparsity)
    {
        Course.Seed(0);
        var net = nn.Sequential(("0", nn.Linear(20, 10)), ("1", nn.ReLU()), ("2", nn.Linear(10, 4)));
        var masks = Prune.ByMagnitude(net, sparsity);
        Assert.Equal(new[] { "0.weight", "2.weight" }, masks.Keys.Order().ToArray());
        Prune.Apply(net, masks);
        double expected = (Math.Round(sparsity * 200) + Math.Round(sparsity * 40)) / 240;
        Assert.Equal(expected, Prune.Sparsity(net), 6);
        var bias = net.named_parameters().First(p => p.name == "0.bias").parameter;
        Assert.Equal(0, bias.eq(0).sum().item<long>());
    }

    [Fact]
    public void A_kept_weight_keeps_its_value()
    {
        Course.Seed(1);
        var layer = nn.Linear(8, 8);
        var before = layer.weight!.detach().clone();
        var masks = Prune.ByMagnitude(layer, 0.75);
        Prune.Apply(layer, masks);
        var kept = masks["weight"].to(ScalarType.Bool);
        Assert.True(layer.weight!.masked_select(kept).allclose(before.masked_select(kept), rtol: 0, atol: 0));
        Assert.Equal(16, kept.sum().item<long>());
    }
}

using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class GanTests
{
    [Theory]
    [InlineData("mnist")]
    [InlineData("mnist-conditional")]
    [InlineData("tiny")]
    public void Every_preset_counts_its_parameters(string name)
    {
        var config = GanConfig.Presets[name];
        Assert.Equal(new GanGenerator(config).parameters().Sum(p => p.numel()), config.GeneratorParameterCount());
        Assert.Equal(new GanDiscriminator(config).parameters().Sum(p => p.numel()), config.DiscriminatorParameterCount());
    }

    [Fact]
    public void The_generator_makes_28x28_images_in_0_to_1_and_the_discriminator_one_logit_each()
    {
        torch.manual_seed(0);
        var config = GanConfig.Presets["tiny"];
        var G = new GanGenerator(config);
        var D = new GanDiscriminator(config);
        using var z = G.SampleLatent(5);
        Assert.Equal(new long[] { 5, 16 }, z.shape);
        using var images = G.call(z);
        Assert.Equal(new long[] { 5, 1, 28, 28 }, images.shape);
        Assert.True(images.min().item<float>() >= 0 && images.max().item<float>() <= 1);
        using var logits = D.call(images);
        Assert.Equal(new long[] { 5 }, logits.shape);
    }

    [Fact]
    public void A_conditional_pair_takes_labels_and_refuses_to_run_without_them()
    {
        var config = new GanConfig(LatentSize: 8, Width: 4, Classes: 10);
        var G = new GanGenerator(config);
        var D = new GanDiscriminator(config);
        using var labels = torch.tensor(new long[] { 0, 3, 9 });
        using var images = G.Generate(torch.randn(3, 8), labels);
        Assert.Equal(new long[] { 3, 1, 28, 28 }, images.shape);
        using var logits = D.Judge(images, labels);
        Assert.Equal(new long[] { 3 }, logits.shape);
        using var otherLabels = torch.tensor(new long[] { 1, 4, 2 });
        Assert.False(logits.allclose(D.Judge(images, otherLabels)), "the label must change the judgement of the same image");
        Assert.Throws<InvalidOperationException>(() => G.call(torch.randn(3, 8)));
        Assert.Throws<InvalidOperationException>(() => D.call(images));
    }

    [Fact]
    public void The_discriminator_learns_to_tell_bright_images_from_dark_ones()
    {
        torch.manual_seed(0);
        var D = new GanDiscriminator(new GanConfig(Width: 4));
        var X = torch.cat([torch.rand(16, 1, 28, 28) * 0.3 + 0.7, torch.rand(16, 1, 28, 28) * 0.3]);
        var y = torch.cat([torch.ones(16), torch.zeros(16)]);
        var optimizer = new MLCourse.Training.Adam(D.parameters(), 0.01, fused: false);
        for (int step = 0; step < 30; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.binary_cross_entropy_with_logits(D.call(X), y).backward();
            optimizer.step();
        }
        using var predicted = D.call(X).gt(0).to(float32);
        Assert.Equal(32, predicted.eq(y).sum().item<long>());
    }
}

using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class MlpTests
{
    [Fact]
    public void Every_preset_builds_and_has_the_parameter_count_its_config_states()
    {
        foreach (var (name, config) in MlpConfig.Presets)
        {
            using var net = new Mlp(config);
            long counted = net.parameters().Sum(p => p.numel());
            Assert.True(counted == config.ParameterCount(), $"{name}: {counted} parameters, config says {config.ParameterCount()}");
        }
        Assert.Equal(784 * 256 + 256 + 256 * 10 + 10, MlpConfig.Presets["mnist-256"].ParameterCount());
    }

    [Fact]
    public void Images_are_flattened_and_the_output_has_one_row_per_sample()
    {
        Course.Seed(0);
        using var net = new Mlp(784, [32, 16], 10);
        using var yHat = net.call(torch.rand(5, 1, 28, 28));
        Assert.Equal(new long[] { 5, 10 }, yHat.shape);
    }

    [Fact]
    public void No_hidden_layer_is_a_linear_model()
    {
        Course.Seed(1);
        using var net = new Mlp(3, [], 2);
        var x = torch.randn(4, 3);
        var a = torch.randn(4, 3);
        // f(x + a) − f(a) = f(x) − f(0) for an affine map
        var lhs = net.call(x + a) - net.call(a);
        var rhs = net.call(x) - net.call(torch.zeros(4, 3));
        Assert.True(lhs.allclose(rhs, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void Batch_norm_layers_are_added_after_each_hidden_linear_layer()
    {
        var config = new MlpConfig(10, [8, 8], 3, Activation.Tanh, BatchNorm: true);
        using var net = new Mlp(config);
        Assert.Equal(2, net.modules().Count(m => m is TorchSharp.Modules.BatchNorm1d));
        Assert.Equal(config.ParameterCount(), net.parameters().Sum(p => p.numel()));
    }

    [Fact]
    public void Every_activation_can_be_built()
    {
        foreach (var activation in Enum.GetValues<Activation>())
        {
            using var net = new Mlp(2, [3], 1, activation);
            Assert.Equal(new long[] { 6, 1 }, net.call(torch.randn(6, 2)).shape);
        }
    }
}

using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class CnnTests
{
    [Fact]
    public void The_default_is_conv32_conv64_fc128_and_counts_its_parameters()
    {
        var model = new Cnn();
        long actual = model.parameters().Sum(p => p.numel());
        Assert.Equal(421_642, actual);
        Assert.Equal(actual, model.Config.ParameterCount());
        using var logits = model.call(torch.zeros(5, 1, 28, 28));
        Assert.Equal(new long[] { 5, 10 }, logits.shape);
        using var maps = model.Features(torch.zeros(2, 1, 28, 28));
        Assert.Equal(new long[] { 2, 64, 7, 7 }, maps.shape);
    }

    [Theory]
    [InlineData(true, 0.5, 0)]
    [InlineData(false, 0.0, 64)]
    public void Other_configurations_count_their_parameters_too(bool batchNorm, double dropout, int hidden)
    {
        var config = new CnnConfig(InChannels: 3, ImageSize: 32, Channels: [8, 16, 32], Hidden: hidden, Classes: 4,
                                   BatchNorm: batchNorm, Dropout: dropout);
        var model = new Cnn(config);
        Assert.Equal(model.parameters().Sum(p => p.numel()), config.ParameterCount());
        Assert.Equal(4, config.FinalSize);
        model.eval();
        using var logits = model.call(torch.randn(2, 3, 32, 32));
        Assert.Equal(new long[] { 2, 4 }, logits.shape);
    }

    [Fact]
    public void It_learns_to_tell_bright_left_halves_from_bright_right_halves()
    {
        torch.manual_seed(0);
        var X = torch.rand(64, 1, 8, 8) * 0.2;
        var y = torch.arange(64) % 2;
        for (int i = 0; i < 64; i++)
            if (y[i].item<long>() == 0) X[i, 0, TensorIndex.Colon, TensorIndex.Slice(0, 4)] += 1;
            else X[i, 0, TensorIndex.Colon, TensorIndex.Slice(4, 8)] += 1;
        var model = new Cnn(new CnnConfig(ImageSize: 8, Channels: [4], Hidden: 8, Classes: 2));
        var optimizer = new MLCourse.Training.Adam(model.parameters(), 0.01, fused: false);
        for (int step = 0; step < 60; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(model.call(X), y);
            loss.backward();
            optimizer.step();
        }
        using var predicted = model.call(X).argmax(1);
        Assert.Equal(64, predicted.eq(y).sum().item<long>());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Channels_last_keeps_the_values_and_the_gradients_but_not_the_strides(int channels)
    {
        var x = torch.randn(2, channels, 5, 4, requires_grad: true);
        using var all = torch.randn(5, channels, 5, 4);
        using var slice = all.narrow(0, 3, 2);                      // a batch that starts inside its storage
        using var sliceLast = Cnn.ChannelsLast(slice);
        Assert.True(sliceLast.eq(slice).all().item<bool>());
        using var last = Cnn.ChannelsLast(x);
        Assert.True(last.eq(x).all().item<bool>());
        Assert.Equal(new long[] { 20 * channels, 1, 4 * channels, channels }, last.stride());
        (last * torch.arange(last.numel()).reshape(last.shape)).sum().backward();
        Assert.True(x.grad!.eq(torch.arange(x.numel()).reshape(x.shape).to(torch.float32)).all().item<bool>());
    }

    [Fact]
    public void The_channels_last_forward_gives_the_logits_of_the_plain_layers()
    {
        torch.manual_seed(1);
        var model = new Cnn(new CnnConfig(InChannels: 3, ImageSize: 8, Channels: [4, 6], Hidden: 5, Classes: 3));
        model.eval();
        var x = torch.randn(4, 3, 8, 8);
        using var logits = model.call(x);
        var reference = torch.nn.Sequential(model.named_children().Select(c => (c.name, (torch.nn.Module<torch.Tensor, torch.Tensor>)c.module)).ToArray());
        using var expected = reference.call(x);
        Assert.True(torch.allclose(logits, expected, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void One_unbatched_image_gives_the_logits_of_the_same_image_in_a_batch()
    {
        torch.manual_seed(5);
        using var net = new Cnn();
        net.eval();
        using var noGrad = torch.no_grad();
        var image = torch.randn(1, 28, 28);                                  // (C, H, W)
        using var alone = net.call(image);
        using var batched = net.call(image.unsqueeze(0));
        Assert.Equal(new long[] { 10 }, alone.shape);
        Assert.True(alone.allclose(batched[0], rtol: 1e-5, atol: 1e-6));
        Assert.Throws<ArgumentException>(() => net.call(torch.randn(28, 28)));
    }

    [Fact]
    public void Pooling_before_the_relu_gives_the_same_values_and_gradients_as_after_it()
    {
        torch.manual_seed(3);
        // Windows that are all negative, all zero, mixed, and tied at a positive value, besides random ones.
        var a = torch.randn(2, 3, 6, 6);
        a[0, 0, 0..2, 0..2] = torch.tensor(new float[] { -2, -1, -3, -4 }).reshape(2, 2);     // all negative, maximum not first
        a[0, 0, 0..2, 2..4] = torch.zeros(2, 2);
        a[0, 0, 2..4, 0..2] = torch.tensor(new float[] { -1, 0, -2, 0 }).reshape(2, 2);       // fails if ReLU'(0) were 1
        a[0, 0, 2..4, 2..4] = torch.tensor(new float[] { 1.5f, 0, 1.5f, -1 }).reshape(2, 2);
        a[0, 1, 0..2, 0..2] = torch.tensor(new float[] { -1, 0, -2, -3 }).reshape(2, 2);      // maximum 0, not first
        a[0, 1, 0..2, 2..4] = torch.tensor(new float[] { -1, 0.5f, 0.5f, 0 }).reshape(2, 2);  // positive tie, not first
        var upstream = torch.randn(2, 3, 3, 3);
        var (reluFirst, reluFirstGrad) = Run(t => nn.functional.max_pool2d(nn.functional.relu(t), 2));
        var (poolFirst, poolFirstGrad) = Run(t => nn.functional.relu(nn.functional.max_pool2d(t, 2)));
        Assert.True(poolFirst.eq(reluFirst).all().item<bool>());
        Assert.True(poolFirstGrad.eq(reluFirstGrad).all().item<bool>());

        (Tensor, Tensor) Run(Func<Tensor, Tensor> block)
        {
            var input = a.clone().requires_grad_(true);
            var output = block(input);
            (output * upstream).sum().backward();
            return (output.detach(), input.grad!);
        }
    }

    [Fact]
    public void The_model_gives_the_logits_and_gradients_of_conv_relu_pool_blocks()
    {
        torch.manual_seed(4);
        var model = new Cnn(new CnnConfig(InChannels: 2, ImageSize: 8, Channels: [4, 6], Hidden: 5, Classes: 3, BatchNorm: true));
        var x = torch.randn(5, 2, 8, 8);
        var weights = torch.randn(5, 3);
        var (logits, grads) = Run(model.call);
        var (expected, expectedGrads) = Run(PlainForward);
        Assert.True(torch.allclose(logits, expected, rtol: 1e-4, atol: 1e-5));
        for (int i = 0; i < grads.Length; i++)
            Assert.True(torch.allclose(grads[i], expectedGrads[i], rtol: 1e-4, atol: 1e-5), $"gradient {i} differs");

        // The textbook order, on the default (B, C, H, W) layout: conv → (batch norm) → ReLU → pool, then the classifier.
        Tensor PlainForward(Tensor images)
        {
            var children = model.named_children().ToDictionary(c => c.name, c => c.module);
            var h = images;
            foreach (var (_, layer) in children["features"].named_children())
                h = layer switch
                {
                    TorchSharp.Modules.MaxPool2d => h,                                        // applied after the ReLU below
                    TorchSharp.Modules.ReLU => nn.functional.max_pool2d(nn.functional.relu(h), 2),
                    _ => ((nn.Module<Tensor, Tensor>)layer).call(h),
                };
            return ((nn.Module<Tensor, Tensor>)children["classifier"]).call(h);
        }

        (Tensor, Tensor[]) Run(Func<Tensor, Tensor> forward)
        {
            model.zero_grad();
            var output = forward(x);
            (output * weights).sum().backward();
            return (output.detach(), model.parameters().Select(p => p.grad!.clone()).ToArray());
        }
    }
}

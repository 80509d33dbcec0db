using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class AutoEncoderTests
{
    [Fact]
    public void The_default_squeezes_784_pixels_into_2_numbers_and_back()
    {
        var model = new AutoEncoder();
        Assert.Equal(model.parameters().Sum(p => p.numel()), model.Config.ParameterCount());
        using var images = torch.rand(4, 1, 28, 28);
        using var z = model.Encode(images);
        Assert.Equal(new long[] { 4, 2 }, z.shape);
        using var reconstruction = model.call(images);
        Assert.Equal(images.shape, reconstruction.shape);
        Assert.True(reconstruction.min().item<float>() >= 0 && reconstruction.max().item<float>() <= 1);
    }

    [Fact]
    public void Other_sizes_count_their_parameters_too()
    {
        var config = new AutoEncoderConfig(InputSize: 50, HiddenSizes: [20, 10, 5], LatentSize: 3);
        Assert.Equal(new AutoEncoder(config).parameters().Sum(p => p.numel()), config.ParameterCount());
    }

    [Fact]
    public void A_tiny_auto_encoder_learns_to_reconstruct_a_few_images()
    {
        torch.manual_seed(0);
        // four 8×8 images: a horizontal bar, a vertical bar, a diagonal and a square frame
        var images = torch.zeros(4, 1, 8, 8);
        images[0, 0, 3] = torch.ones(8);
        images[1, 0, TensorIndex.Colon, 3] = torch.ones(8);
        for (int i = 0; i < 8; i++) images[2, 0, i, i] = torch.tensor(1f);
        images[3, 0, 0] = torch.ones(8); images[3, 0, 7] = torch.ones(8);
        images[3, 0, TensorIndex.Colon, 0] = torch.ones(8); images[3, 0, TensorIndex.Colon, 7] = torch.ones(8);

        var model = new AutoEncoder(new AutoEncoderConfig(InputSize: 64, HiddenSizes: [32], LatentSize: 2));
        double Error() { using var g = torch.no_grad(); return nn.functional.mse_loss(model.call(images), images).item<float>(); }
        double before = Error();
        var optimizer = new MLCourse.Training.Adam(model.parameters(), 0.01, fused: false);
        for (int step = 0; step < 400; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            nn.functional.binary_cross_entropy(model.call(images), images).backward();
            optimizer.step();
        }
        double after = Error();
        Assert.True(after < 0.01 && after < before / 10, $"reconstruction error {before:F4} → {after:F4}");
    }
}

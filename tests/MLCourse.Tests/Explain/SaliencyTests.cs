using MLCourse.Explain;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Explain;

public class SaliencyTests
{
    // scores = flatten(x) · Wᵀ + b: a linear model on 1×4×4 images with 3 classes
    private static (Func<Tensor, Tensor> model, Tensor W, Tensor b) LinearModel()
    {
        torch.manual_seed(1);
        var W = torch.randn(3, 16, dtype: float64);
        var b = torch.randn(3, dtype: float64);
        return (x => x.reshape(x.shape[0], -1).matmul(W.T) + b, W, b);
    }

    [Fact]
    public void The_gradient_of_a_linear_model_is_its_weight_row()
    {
        var (model, W, _) = LinearModel();
        var X = torch.rand(2, 1, 4, 4, dtype: float64);
        var target = torch.tensor(new long[] { 2, 0 });
        var grad = Saliency.Gradient(model, X, target);
        Assert.Equal(X.shape, grad.shape);
        Assert.True(grad[0].reshape(-1).allclose(W[2]));
        Assert.True(grad[1].reshape(-1).allclose(W[0]));
        Assert.False(X.requires_grad);
    }

    [Fact]
    public void SmoothGrad_of_a_linear_model_equals_the_plain_gradient()
    {
        var (model, W, _) = LinearModel();
        var X = torch.rand(1, 1, 4, 4, dtype: float64);
        var smooth = Saliency.SmoothGrad(model, X, torch.tensor(new long[] { 1 }), samples: 5, sigma: 0.5);
        Assert.True(smooth.reshape(-1).allclose(W[1]));
    }

    [Fact]
    public void Integrated_gradients_are_complete_and_exact_on_a_linear_model()
    {
        var (model, W, _) = LinearModel();
        var X = torch.rand(3, 1, 4, 4, dtype: float64);
        var baseline = torch.full(1, 1, 4, 4, 0.5, dtype: float64);
        var target = torch.tensor(new long[] { 0, 1, 2 });
        var ig = Saliency.IntegratedGradients(model, X, target, baseline, steps: 3);
        for (int i = 0; i < 3; i++)
        {
            long c = target[i].item<long>();
            var expected = (X[i] - baseline[0]).reshape(-1) * W[c];          // (x − x′) ⊙ w, exactly
            Assert.True(ig[i].reshape(-1).allclose(expected));
            double gap = (model(X[i].unsqueeze(0)) - model(baseline))[0, c].item<double>();
            Assert.Equal(gap, ig[i].sum().item<double>(), 10);
        }
    }

    [Fact]
    public void Integrated_gradients_approach_completeness_on_a_nonlinear_model()
    {
        torch.manual_seed(2);
        var net = nn.Sequential(nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 2));
        net.to(float64);
        Func<Tensor, Tensor> model = x => net.call(x.reshape(x.shape[0], -1));
        var X = torch.rand(1, 1, 4, 4, dtype: float64);
        var target = torch.tensor(new long[] { 1 });
        double gap = (model(X) - model(torch.zeros_like(X)))[0, 1].item<double>();
        double coarse = Math.Abs(Saliency.IntegratedGradients(model, X, target, steps: 2).sum().item<double>() - gap);
        double fine = Math.Abs(Saliency.IntegratedGradients(model, X, target, steps: 200).sum().item<double>() - gap);
        Assert.True(fine < 1e-4, $"completeness error with 200 steps: {fine}");
        Assert.True(fine < coarse, $"more steps should help: {coarse} → {fine}");
    }

    [Fact]
    public void Occlusion_lights_up_only_around_the_pixel_the_model_looks_at()
    {
        // the score of class 0 is the pixel at row 5, column 2; class 1 is constant
        Func<Tensor, Tensor> model = x => torch.stack([x[TensorIndex.Colon, 0, 5, 2], torch.zeros(x.shape[0])], 1);
        var X = torch.ones(2, 1, 8, 8);
        var map = Saliency.Occlusion(model, X, torch.tensor(new long[] { 0, 1 }), patch: 3, stride: 1);
        Assert.Equal(new long[] { 2, 1, 8, 8 }, map.shape);
        for (int r = 0; r < 8; r++)
            for (int c = 0; c < 8; c++)
            {
                double v = map[0, 0, r, c].item<float>();
                bool near = Math.Abs(r - 5) <= 2 && Math.Abs(c - 2) <= 2;
                if (near) Assert.True(v > 0, $"pixel ({r}, {c}) is within a square that hides (5, 2) but got {v}");
                else Assert.Equal(0.0, v, 6);
            }
        Assert.Equal(1.0, map[0, 0, 5, 2].item<float>(), 6);                // every square over (5, 2) hides it
        Assert.Equal(0.0, map[1].abs().max().item<float>(), 6);               // a constant score has no sensitivity
    }

    [Fact]
    public void Occlusion_covers_the_border_when_the_stride_does_not_divide_the_image()
    {
        Func<Tensor, Tensor> model = x => x.sum([1, 2, 3]).unsqueeze(1);
        var X = torch.ones(1, 1, 7, 7);
        var map = Saliency.Occlusion(model, X, torch.tensor(new long[] { 0 }), patch: 3, stride: 3);
        Assert.True(map.gt(0).all().item<bool>());                            // each square hides 9 ones: drop 9 everywhere
        Assert.Equal(9.0, map.mean().item<float>(), 5);
    }
}

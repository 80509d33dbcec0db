using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class VaeTests
{
    [Fact]
    public void The_KL_term_matches_a_value_worked_by_hand()
    {
        // μ = (1, 2), σ² = (1, 4): ½[(1 + 1 − 1 − 0) + (4 + 4 − 1 − ln 4)] = ½(8 − ln 4) = 3.30685…
        using var mean = torch.tensor(new double[,] { { 1, 2 }, { 0, 0 } });
        using var logVariance = torch.tensor(new double[,] { { 0, Math.Log(4) }, { 0, 0 } });
        using var kl = Vae.KlDivergence(mean, logVariance);
        Assert.Equal(new long[] { 2 }, kl.shape);
        Assert.Equal(0.5 * (8 - Math.Log(4)), kl[0].item<double>(), 12);
        Assert.Equal(0.0, kl[1].item<double>(), 12);                   // q = prior: no divergence
    }

    [Fact]
    public void The_KL_term_agrees_with_a_Monte_Carlo_estimate()
    {
        torch.manual_seed(0);
        using var mean = torch.tensor(new double[] { 0.5, -1.0, 2.0 }).unsqueeze(0);
        using var logVariance = torch.tensor(new double[] { -1.0, 0.3, 0.0 }).unsqueeze(0);
        double closed = Vae.KlDivergence(mean, logVariance).item<double>();
        // KL = E_q[log q(z) − log p(z)], with z drawn by the reparameterisation trick
        using var z = Vae.Reparameterize(mean.expand(200_000, 3), logVariance.expand(200_000, 3));
        using var logQ = (-0.5 * ((z - mean).pow(2) / logVariance.exp() + logVariance)).sum(1);
        using var logP = (-0.5 * z.pow(2)).sum(1);
        double monteCarlo = (logQ - logP).mean().item<double>();
        Assert.True(Math.Abs(closed - monteCarlo) < 0.02, $"closed form {closed:F4}, Monte Carlo {monteCarlo:F4}");
    }

    [Fact]
    public void Shapes_and_parameter_count()
    {
        var model = new Vae();
        Assert.Equal(model.parameters().Sum(p => p.numel()), model.Config.ParameterCount());
        using var images = torch.rand(3, 1, 28, 28);
        var (logits, mean, logVariance) = model.call(images);
        Assert.Equal(new long[] { 3, 784 }, logits.shape);
        Assert.Equal(new long[] { 3, 2 }, mean.shape);
        Assert.Equal(new long[] { 3, 2 }, logVariance.shape);
        using var generated = model.Generate(torch.randn(5, 2));
        Assert.Equal(new long[] { 5, 784 }, generated.shape);
        var (reconstruction, kl) = model.Loss(images);
        Assert.Equal(0, reconstruction.dim());
        Assert.True(kl.item<float>() >= 0);
    }

    [Fact]
    public void Training_lowers_the_negative_ELBO_of_a_few_images()
    {
        torch.manual_seed(0);
        var images = (torch.rand(8, 1, 6, 6) > 0.5).to(float32);
        var model = new Vae(new VaeConfig(InputSize: 36, HiddenSizes: [32], LatentSize: 2));
        double Loss() { using var g = torch.no_grad(); var (r, k) = model.Loss(images); return (r + k).item<float>(); }
        double before = Loss();
        var optimizer = new MLCourse.Training.Adam(model.parameters(), 0.01, fused: false);
        for (int step = 0; step < 300; step++)
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            var (r, k) = model.Loss(images);
            (r + k).backward();
            optimizer.step();
        }
        double after = Loss();
        Assert.True(after < before * 0.7, $"negative ELBO {before:F2} → {after:F2}");
    }
}

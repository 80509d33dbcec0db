using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Models;

public class DiffusionTests
{
    [Fact]
    public void The_linear_schedule_has_the_DDPM_values_and_alpha_bar_is_the_running_product()
    {
        var schedule = new NoiseSchedule(1000, 1e-4, 0.02);
        Assert.Equal(1e-4, schedule.Beta[0], 12);
        Assert.Equal(0.02, schedule.Beta[999], 12);
        Assert.Equal(1 - 1e-4, schedule.AlphaBar[0], 12);
        Assert.Equal((1 - 1e-4) * (1 - (1e-4 + 0.0199 / 999)), schedule.AlphaBar[1], 12);
        // ln ᾱ_T = Σ ln(1 − β_t) ≈ −Σ β_t = −1000·0.01005: ᾱ_T is about 4·10⁻⁵, so x_T is almost pure noise.
        Assert.InRange(schedule.AlphaBar[999], 3e-5, 5e-5);
        Assert.All(Enumerable.Range(1, 999), t => Assert.True(schedule.AlphaBar[t] < schedule.AlphaBar[t - 1]));
    }

    [Fact]
    public void AddNoise_has_the_closed_form_mean_and_variance()
    {
        torch.manual_seed(0);
        var schedule = new NoiseSchedule(100, 1e-3, 0.05);
        const int n = 200_000, t = 40;
        var x0 = torch.full(n, 1, 3.0f);                                    // every sample is 3
        var steps = torch.full(n, t, dtype: int64);
        using var xt = schedule.AddNoise(x0, steps, torch.randn_like(x0));
        Assert.Equal(x0.shape, xt.shape);
        Assert.Equal(3 * Math.Sqrt(schedule.AlphaBar[t]), xt.mean().item<float>(), tolerance: 0.01);
        Assert.Equal(1 - schedule.AlphaBar[t], xt.var().item<float>(), tolerance: 0.01);
    }

    [Fact]
    public void Iterating_the_one_step_process_agrees_with_the_closed_form()
    {
        torch.manual_seed(1);
        var schedule = new NoiseSchedule(50, 1e-3, 0.1);
        var x = torch.full(100_000, -2.0f);
        for (int t = 0; t < 30; t++) x = schedule.Step(x, t);
        Assert.Equal(-2 * Math.Sqrt(schedule.AlphaBar[29]), x.mean().item<float>(), tolerance: 0.01);
        Assert.Equal(1 - schedule.AlphaBar[29], x.var().item<float>(), tolerance: 0.01);
    }

    [Fact]
    public void The_sampler_with_a_perfect_denoiser_recovers_a_point_mass()
    {
        // Given data that is always the point c, the ideal noise predictor is ε(x_t, t) = (x_t − √ᾱ_t·c) / √(1 − ᾱ_t).
        // The last step (t = 0) maps any x_1 to c, so this test checks the loop and the shapes, not the variances:
        // With_a_perfect_denoiser_a_reverse_step_draws_from_the_true_posterior checks those.
        torch.manual_seed(2);
        var schedule = new NoiseSchedule(200, 5e-4, 0.1);
        var ddpm = new Ddpm(schedule);
        var c = torch.tensor(new[] { 1.5f, -0.5f });
        Tensor Oracle(Tensor xt, Tensor t)
        {
            var alphaBar = torch.tensor(schedule.AlphaBar, dtype: float32).index_select(0, t).unsqueeze(1);   // (B, 1)
            return (xt - alphaBar.sqrt() * c) / (1 - alphaBar).sqrt();
        }
        var seen = new List<int>();
        using var samples = ddpm.Sample(Oracle, [64, 2], onStep: (t, _) => seen.Add(t));
        Assert.Equal(new long[] { 64, 2 }, samples.shape);
        Assert.True(torch.allclose(samples, c.expand(64, 2), rtol: 0, atol: 1e-3));
        Assert.Equal(Enumerable.Range(0, 200).Reverse(), seen);
    }

    [Fact]
    public void With_a_perfect_denoiser_a_reverse_step_draws_from_the_true_posterior()
    {
        // Data that is always c: q(x_{t−1} | x_t, x_0 = c) = N(μ̃, β̃_t) with
        // μ̃ = √ᾱ_{t−1}·β_t/(1 − ᾱ_t)·c + √α_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t)·x_t and β̃_t = β_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t).
        // A reverse step at t > 0 must match both moments; at t = 0 the oracle's mean is c for any input, which is why
        // a test of the final samples alone cannot see the variance.
        torch.manual_seed(9);
        var schedule = new NoiseSchedule(100, 1e-2, 0.2);
        var ddpm = new Ddpm(schedule);
        const float c = 1.5f, xValue = -0.7f;
        Tensor Oracle(Tensor xt, Tensor t)
        {
            var alphaBar = torch.tensor(schedule.AlphaBar, dtype: float32).index_select(0, t).unsqueeze(1);   // (B, 1)
            return (xt - alphaBar.sqrt() * c) / (1 - alphaBar).sqrt();
        }
        foreach (int t in new[] { 1, 30, 99 })
        {
            using var xt = torch.full(200_000, 1, xValue);
            using var previous = ddpm.ReverseStep(Oracle, xt, t);
            double a = schedule.Alpha[t], b = schedule.Beta[t], ab = schedule.AlphaBar[t], abPrev = schedule.AlphaBar[t - 1];
            double mean = Math.Sqrt(abPrev) * b / (1 - ab) * c + Math.Sqrt(a) * (1 - abPrev) / (1 - ab) * xValue;
            double variance = b * (1 - abPrev) / (1 - ab);
            Assert.Equal(mean, previous.mean().item<float>(), tolerance: 4 * Math.Sqrt(variance / 200_000) + 1e-5);
            Assert.Equal(variance, previous.var().item<float>(), tolerance: 0.02 * variance);
        }
        using var last = ddpm.ReverseStep(Oracle, torch.full(10, 1, xValue), 0);
        Assert.True(last.allclose(torch.full(10, 1, c), rtol: 0, atol: 1e-4));   // t = 0: the mean, no noise
    }

    [Fact]
    public void The_alpha_bar_table_is_made_once_per_device_and_dtype()
    {
        var schedule = new NoiseSchedule(10);
        var x32 = torch.zeros(4, 2);
        var t = torch.tensor(new long[] { 0, 3, 9, 9 });
        var first = schedule.AlphaBarTable(x32.device, ScalarType.Float32);
        using (var noised = schedule.AddNoise(x32, t, torch.ones_like(x32))) { }
        Assert.Same(first, schedule.AlphaBarTable(x32.device, ScalarType.Float32));
        Assert.False(first.IsInvalid);
        Assert.NotSame(first, schedule.AlphaBarTable(x32.device, ScalarType.Float64));
        using var values = schedule.AlphaBarAt(t, x32);
        Assert.Equal(new long[] { 4, 1 }, values.shape);
        Assert.Equal((float)schedule.AlphaBar[3], values[1, 0].item<float>());
    }

    [Fact]
    public void The_loss_is_zero_for_the_oracle_and_about_one_for_a_predictor_of_zeros()
    {
        torch.manual_seed(3);
        var schedule = new NoiseSchedule(100, 1e-3, 0.05);
        var ddpm = new Ddpm(schedule);
        var x0 = torch.zeros(50_000, 3);
        Tensor Oracle(Tensor xt, Tensor t)                                   // data at 0: x_t = √(1 − ᾱ_t)·ε
            => xt / schedule.AlphaBarAt(t, xt).neg().add(1).sqrt();
        Assert.Equal(0, ddpm.Loss(Oracle, x0).item<float>(), 4);
        Assert.Equal(1, ddpm.Loss((xt, t) => torch.zeros_like(xt), x0).item<float>(), 1);
    }

    [Fact]
    public void The_time_embedding_is_sin_and_cos_of_the_step()
    {
        using var e = Ddpm.TimeEmbedding(torch.tensor(new long[] { 0, 7 }), 8);
        Assert.Equal(new long[] { 2, 8 }, e.shape);
        Assert.Equal(0, e[0, 0].item<float>(), 6);                             // sin 0
        Assert.Equal(1, e[0, 4].item<float>(), 6);                             // cos 0
        Assert.Equal(Math.Sin(7), e[1, 0].item<float>(), 5);                   // f_0 = 1
        Assert.Equal(Math.Cos(7 * Math.Pow(10000, -0.25)), e[1, 5].item<float>(), 5);
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Models;

/// <summary>
/// The noise schedule of a denoising diffusion model (去噪扩散模型, DDPM): a linear schedule of variances
/// β_t for the steps t = 0 … T−1, with α_t = 1 − β_t and ᾱ_t = α_0·α_1·…·α_t. The forward process adds noise one step
/// at a time, q(x_t | x_{t−1}) = N(√α_t·x_{t−1}, β_t·I), and has the closed form
/// q(x_t | x_0) = N(√ᾱ_t·x_0, (1 − ᾱ_t)·I). Steps are numbered from 0 (the first noising step) as in code, where
/// the DDPM paper counts 1 … T. Introduced in chapter 13 (diffusion).
/// </summary>
public sealed class NoiseSchedule
{
    /// <summary>A linear schedule of <paramref name="steps"/> variances from <paramref name="betaStart"/> to <paramref name="betaEnd"/>
    /// (DDPM: 1,000 steps, 10⁻⁴ … 0.02).</summary>
    public NoiseSchedule(int steps = 1000, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), "A schedule needs at least one step.");
        if (betaStart <= 0 || betaEnd >= 1 || betaStart > betaEnd)
            throw new ArgumentException($"Need 0 < betaStart ≤ betaEnd < 1, got {betaStart} and {betaEnd}.");
        Steps = steps;
        Beta = Enumerable.Range(0, steps).Select(t => steps == 1 ? betaStart : betaStart + (betaEnd - betaStart) * t / (steps - 1)).ToArray();
        Alpha = Beta.Select(b => 1 - b).ToArray();
        AlphaBar = new double[steps];
        double product = 1;
        for (int t = 0; t < steps; t++) AlphaBar[t] = product *= Alpha[t];
    }

    /// <summary>Number of noising steps T.</summary>
    public int Steps { get; }

    /// <summary>β_t, the variance of the noise added at step t.</summary>
    public double[] Beta { get; }

    /// <summary>α_t = 1 − β_t.</summary>
    public double[] Alpha { get; }

    /// <summary>ᾱ_t = α_0·…·α_t: how much of x_0 is left in x_t (its coefficient is √ᾱ_t).</summary>
    public double[] AlphaBar { get; }

    /// <summary>One forward step: x_t = √α_t·x_{t−1} + √β_t·ε with fresh noise ε (the same t for the whole batch).</summary>
    public Tensor Step(Tensor previous, int t) =>
        Math.Sqrt(Alpha[t]) * previous + Math.Sqrt(Beta[t]) * torch.randn_like(previous);

    /// <summary>
    /// The closed form: x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε for clean samples <paramref name="x0"/> (B, …), steps
    /// <paramref name="t"/> (B,) (int64, one per sample) and noise <paramref name="noise"/> shaped like x0.
    /// </summary>
    public Tensor AddNoise(Tensor x0, Tensor t, Tensor noise)
    {
        using var scope = torch.NewDisposeScope();
        var alphaBar = AlphaBarAt(t, x0);                              // (B, 1, …)
        var signal = alphaBar.sqrt();
        var spread = (1 - alphaBar).sqrt();
        return (signal * x0 + spread * noise).MoveToOuterDisposeScope();
    }

    /// <summary>ᾱ_t for steps t (B,) (int64, on the device of <paramref name="like"/>), shaped (B, 1, …) to broadcast
    /// against <paramref name="like"/>, with its dtype and device. Introduced in chapter 13 (diffusion).</summary>
    public Tensor AlphaBarAt(Tensor t, Tensor like)
    {
        var shape = new long[like.dim()];
        Array.Fill(shape, 1L);
        shape[0] = t.shape[0];
        using var values = AlphaBarTable(like.device, like.dtype)[TensorIndex.Tensor(t)];   // (B,)
        return values.view(shape);                                                             // (B, 1, …)
    }

    /// <summary>
    /// The ᾱ table as a tensor (T,) of <paramref name="dtype"/> on <paramref name="device"/>: made once per device and
    /// dtype and kept (the schedule lives as long as the model that uses it), not copied to the device on every call.
    /// </summary>
    internal Tensor AlphaBarTable(Device device, ScalarType dtype)
    {
        var key = (device.type, device.index, dtype);
        lock (tables)
        {
            if (!tables.TryGetValue(key, out var table))
            {
                using var scope = torch.NewDisposeScope();
                table = torch.tensor(AlphaBar, dtype: ScalarType.Float64).to(dtype).to(device).DetachFromDisposeScope();
                tables[key] = table;
            }
            return table;
        }
    }

    private readonly Dictionary<(DeviceType, int, ScalarType), Tensor> tables = new();
}

/// <summary>
/// A denoising diffusion probabilistic model (DDPM, Ho et al. 2020) around any noise predictor ε_θ(x_t, t): the training
/// loss (add noise at a random step, predict it, mean squared error) and the reverse process (逆向过程) that turns pure
/// noise into a sample step by step. The network is a function of (x_t, t) so that any module fits.
/// Introduced in chapter 13 (diffusion).
/// </summary>
public sealed class Ddpm
{
    /// <summary>A DDPM with the given noise schedule.</summary>
    public Ddpm(NoiseSchedule schedule) => Schedule = schedule;

    /// <summary>The noise schedule.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>
    /// The DDPM training objective: for clean samples <paramref name="x0"/> (B, …) draw a step t and noise ε per sample,
    /// form x_t = √ᾱ_t·x_0 + √(1 − ᾱ_t)·ε and return mean((ε − ε_θ(x_t, t))²).
    /// </summary>
    public Tensor Loss(Func<Tensor, Tensor, Tensor> noisePredictor, Tensor x0)
    {
        using var scope = torch.NewDisposeScope();
        var t = torch.randint(0, Schedule.Steps, [x0.shape[0]], dtype: int64, device: x0.device);   // (B,)
        var noise = torch.randn_like(x0);
        var xt = Schedule.AddNoise(x0, t, noise);
        return torch.nn.functional.mse_loss(noisePredictor(xt, t), noise).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// One reverse step from x_t to x_{t−1}: the mean 1/√α_t·(x_t − β_t/√(1 − ᾱ_t)·ε_θ(x_t, t)) plus, for t &gt; 0,
    /// noise of variance β̃_t = β_t·(1 − ᾱ_{t−1})/(1 − ᾱ_t) (the variance of q(x_{t−1} | x_t, x_0)).
    /// </summary>
    public Tensor ReverseStep(Func<Tensor, Tensor, Tensor> noisePredictor, Tensor xt, int t)
    {
        using var scope = torch.NewDisposeScope();
        var steps = torch.full([xt.shape[0]], t, dtype: int64, device: xt.device);            // (B,)
        var predicted = noisePredictor(xt, steps);
        double alpha = Schedule.Alpha[t], beta = Schedule.Beta[t], alphaBar = Schedule.AlphaBar[t];
        var mean = (xt - beta / Math.Sqrt(1 - alphaBar) * predicted) / Math.Sqrt(alpha);
        if (t == 0) return mean.MoveToOuterDisposeScope();
        double variance = beta * (1 - Schedule.AlphaBar[t - 1]) / (1 - alphaBar);
        return (mean + Math.Sqrt(variance) * torch.randn_like(xt)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Draws samples of the given <paramref name="shape"/>: x_T ~ N(0, I), then <see cref="ReverseStep"/> for
    /// t = T−1 … 0, without gradients. <paramref name="onStep"/> (optional) sees every x_t after the step to t
    /// (t = T−1 … 0, the last one is the sample), e.g. to keep snapshots for a plot. The samples are made on
    /// <paramref name="device"/>, by default <see cref="Course.Device"/> (where the noise predictor should live).
    /// </summary>
    public Tensor Sample(Func<Tensor, Tensor, Tensor> noisePredictor, long[] shape, Device? device = null, Action<int, Tensor>? onStep = null)
    {
        using var noGrad = torch.no_grad();
        var x = torch.randn(shape, device: device ?? Course.Device);
        for (int t = Schedule.Steps - 1; t >= 0; t--)
        {
            Interactive.ThrowIfInterrupted();
            var next = ReverseStep(noisePredictor, x, t);
            x.Dispose();
            x = next;
            onStep?.Invoke(t, x);
        }
        return x;
    }

    /// <summary>
    /// The sinusoidal time embedding (时间嵌入) of the Transformer and DDPM: step t becomes
    /// [sin(t·f_0), …, sin(t·f_{d/2−1}), cos(t·f_0), …] with frequencies f_i = 10000^(−i/(d/2)); (B,) → (B, d).
    /// </summary>
    public static Tensor TimeEmbedding(Tensor t, int dim)
    {
        if (dim < 2 || dim % 2 != 0) throw new ArgumentException("The embedding size must be even and at least 2.", nameof(dim));
        using var scope = torch.NewDisposeScope();
        int half = dim / 2;
        var frequencies = torch.exp(-Math.Log(10000) * torch.arange(half, dtype: float32, device: t.device) / half);   // (d/2,)
        var angles = t.to(float32).unsqueeze(1) * frequencies.unsqueeze(0);                                           // (B, d/2)
        return torch.cat([angles.sin(), angles.cos()], 1).MoveToOuterDisposeScope();                                   // (B, d)
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Explain;

/// <summary>
/// Local explanations (局部解释) of an image classifier: which input pixels matter for one class score.
/// Every method takes the model as a function from inputs (B, …) to scores (B, classes) — logits or
/// probabilities — and the class to explain for each input, and returns a map with the shape of the input
/// (occlusion: one channel). The caller puts the model in evaluation mode. Introduced in chapter 15
/// (explainable ML).
/// </summary>
public static class Saliency
{
    /// <summary>
    /// The saliency map (显著图) ∂ score[target] / ∂ input, one gradient per input (same shape as
    /// <paramref name="X"/>). Take its absolute value for the classic "which pixels matter" picture.
    /// </summary>
    /// <param name="model">Scores (B, classes) of inputs (B, …).</param>
    /// <param name="X">Inputs (B, …).</param>
    /// <param name="target">Class to explain per input (B,), int64.</param>
    public static Tensor Gradient(Func<Tensor, Tensor> model, Tensor X, Tensor target)
    {
        using var enable = torch.enable_grad();
        using var scope = torch.NewDisposeScope();
        var input = X.detach().clone().requires_grad_(true);
        var scores = model(input);                                          // (B, classes)
        var chosen = scores.gather(1, target.view(-1, 1)).sum();            // Σ_b score[b, target_b]
        var grad = torch.autograd.grad([chosen], [input])[0];               // same shape as X
        return grad.detach().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// SmoothGrad: the mean of <see cref="Gradient"/> over <paramref name="samples"/> noisy copies
    /// x + ε, ε ~ N(0, σ²), which averages away the gradient's pixel-to-pixel noise.
    /// </summary>
    /// <param name="model">Scores (B, classes) of inputs (B, …).</param>
    /// <param name="X">Inputs (B, …).</param>
    /// <param name="target">Class to explain per input (B,).</param>
    /// <param name="samples">Noisy copies per input.</param>
    /// <param name="sigma">Standard deviation of the noise, in input units.</param>
    /// <param name="seed">Seed of the noise, so maps repeat exactly. The noise is drawn on the CPU by a generator of
    /// this seed and moved to the device of <paramref name="X"/> (TorchSharp 0.107 makes every <c>Generator</c> on the
    /// CPU), so the same seed gives the same map on every device.</param>
    /// <returns>The map, shaped and placed like <paramref name="X"/>.</returns>
    public static Tensor SmoothGrad(Func<Tensor, Tensor> model, Tensor X, Tensor target, int samples = 25,
                                    double sigma = 0.15, long seed = 0)
    {
        if (samples <= 0) throw new ArgumentOutOfRangeException(nameof(samples), "samples must be positive.");
        using var generator = new Generator((ulong)seed);
        var sum = torch.zeros_like(X);
        for (int s = 0; s < samples; s++)
        {
            using var scope = torch.NewDisposeScope();
            var noise = torch.randn(X.shape, dtype: X.dtype, generator: generator).to(X.device);    // drawn on the CPU
            var noisy = X + sigma * noise;
            sum.add_(Gradient(model, noisy, target));
        }
        return sum.div_(samples);
    }

    /// <summary>
    /// Integrated gradients (积分梯度): (x − x′) ⊙ the mean gradient along the straight path from the baseline
    /// x′ to x, by the midpoint rule with <paramref name="steps"/> points. Completeness: the attributions of
    /// one input sum to about score(x) − score(x′), and exactly for a model linear in its input.
    /// </summary>
    /// <param name="model">Scores (B, classes) of inputs (B, …).</param>
    /// <param name="X">Inputs (B, …).</param>
    /// <param name="target">Class to explain per input (B,).</param>
    /// <param name="baseline">The reference input x′ (broadcast against X); zeros (a black image) when null.</param>
    /// <param name="steps">Points on the path; the error of the midpoint rule shrinks like 1/steps².</param>
    public static Tensor IntegratedGradients(Func<Tensor, Tensor> model, Tensor X, Tensor target,
                                             Tensor? baseline = null, int steps = 50)
    {
        if (steps <= 0) throw new ArgumentOutOfRangeException(nameof(steps), "steps must be positive.");
        using var scope = torch.NewDisposeScope();
        var start = baseline is null ? torch.zeros_like(X) : baseline.expand_as(X);
        var delta = X - start;
        var sum = torch.zeros_like(X);
        for (int k = 0; k < steps; k++)
        {
            using var inner = torch.NewDisposeScope();
            double alpha = (k + 0.5) / steps;                                // midpoint of the k-th piece
            sum.add_(Gradient(model, start + alpha * delta, target));
        }
        return (delta * sum / steps).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Occlusion sensitivity (遮挡敏感度): slide a <paramref name="patch"/>×<paramref name="patch"/> square filled
    /// with <paramref name="fill"/> over the image with <paramref name="stride"/>, and record how much the target
    /// score drops; each pixel gets the mean drop over the squares that cover it. Inputs (B, C, H, W), result
    /// (B, 1, H, W): positive where hiding the pixels lowers the score.
    /// </summary>
    /// <param name="model">Scores (B, classes) of images (B, C, H, W).</param>
    /// <param name="X">Images (B, C, H, W).</param>
    /// <param name="target">Class to explain per image (B,).</param>
    /// <param name="patch">Side of the occluding square.</param>
    /// <param name="stride">Step between square positions.</param>
    /// <param name="fill">Value written into the square (0: black).</param>
    public static Tensor Occlusion(Func<Tensor, Tensor> model, Tensor X, Tensor target, int patch = 6, int stride = 2,
                                   double fill = 0)
    {
        if (X.dim() != 4) throw new ArgumentException($"Occlusion wants images (B, C, H, W), not [{string.Join(", ", X.shape)}].", nameof(X));
        long B = X.shape[0], H = X.shape[2], W = X.shape[3];
        if (patch <= 0 || patch > H || patch > W) throw new ArgumentOutOfRangeException(nameof(patch), "patch must fit in the image.");
        if (stride <= 0) throw new ArgumentOutOfRangeException(nameof(stride), "stride must be positive.");
        using var noGrad = torch.no_grad();
        var drop = torch.zeros(B, 1, H, W, dtype: X.dtype, device: X.device);
        var cover = torch.zeros(B, 1, H, W, dtype: X.dtype, device: X.device);
        using (var scope = torch.NewDisposeScope())
        {
            var index = target.view(-1, 1);
            var reference = model(X).gather(1, index);                       // (B, 1)
            var rows = Positions(H, patch, stride);
            var cols = Positions(W, patch, stride);
            foreach (long top in rows)
            {
                using var rowScope = torch.NewDisposeScope();
                // all square positions of this row in one batch: (columns·B, C, H, W)
                var occluded = X.repeat(cols.Count, 1, 1, 1);
                for (int j = 0; j < cols.Count; j++)
                    occluded[TensorIndex.Slice(j * B, (j + 1) * B), TensorIndex.Colon,
                             TensorIndex.Slice(top, top + patch), TensorIndex.Slice(cols[j], cols[j] + patch)] = fill;
                var scores = model(occluded).gather(1, index.repeat(cols.Count, 1)).view(cols.Count, B, 1);
                for (int j = 0; j < cols.Count; j++)
                {
                    var d = (reference - scores[j]).view(B, 1, 1, 1);            // score drop for this square
                    var rs = TensorIndex.Slice(top, top + patch);
                    var cs = TensorIndex.Slice(cols[j], cols[j] + patch);
                    drop[TensorIndex.Colon, TensorIndex.Colon, rs, cs] += d;
                    cover[TensorIndex.Colon, TensorIndex.Colon, rs, cs] += 1;
                }
            }
        }
        var map = drop / cover.clamp_min(1);
        drop.Dispose();
        cover.Dispose();
        return map;
    }

    /// <summary>Top-left corners of the squares along one side; the last square touches the border.</summary>
    private static List<long> Positions(long size, int patch, int stride)
    {
        var positions = new List<long>();
        for (long p = 0; p + patch <= size; p += stride) positions.Add(p);
        if (positions[^1] + patch < size) positions.Add(size - patch);
        return positions;
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Classic;

/// <summary>Small synthetic data sets for the classic-algorithm tests (fixed seeds).</summary>
internal static class Synthetic
{
    /// <summary>Centres of the blobs: far apart compared with a spread of 1.</summary>
    public static readonly double[][] Centres = [[0, 0], [8, 8], [8, -8], [-8, 8]];

    /// <summary><paramref name="perClass"/> Gaussian points around each of the first <paramref name="classes"/> centres.</summary>
    public static (Tensor X, Tensor y) Blobs(int classes, int perClass, int seed, double spread = 1.0)
    {
        var generator = new Generator((ulong)seed);
        var parts = new List<Tensor>();
        var labels = new List<long>();
        for (int c = 0; c < classes; c++)
        {
            parts.Add(torch.randn(perClass, 2, dtype: float64, generator: generator) * spread + torch.tensor(Centres[c]));
            labels.AddRange(Enumerable.Repeat((long)c, perClass));
        }
        return (torch.cat(parts, 0), torch.tensor(labels.ToArray()));
    }

    /// <summary>Fraction of equal entries.</summary>
    public static double Accuracy(Tensor yHat, Tensor y) => yHat.eq(y).to(float64).mean().item<double>();
}

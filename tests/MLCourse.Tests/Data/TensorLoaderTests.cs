using MLCourse.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Data;

public class TensorLoaderTests
{
    [Fact]
    public void Batches_cover_every_sample_once_per_epoch()
    {
        using var X = torch.arange(10).reshape(10, 1).to(torch.float32);
        using var y = torch.arange(10);
        var loader = new TensorLoader(X, y, batchSize: 4, shuffle: true, seed: 3);
        Assert.Equal(3, loader.Batches);
        var seen = new List<long>();
        foreach (var (xb, yb) in loader)
        {
            Assert.Equal(xb.shape[0], yb.shape[0]);
            seen.AddRange(yb.data<long>().ToArray());
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), seen.Order());
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_and_epochs_differ()
    {
        using var X = torch.arange(20).reshape(20, 1).to(torch.float32);
        using var y = torch.arange(20);
        long[] Epoch(TensorLoader l) => l.SelectMany(b => b.y.data<long>().ToArray()).ToArray();
        var a = new TensorLoader(X, y, 5, shuffle: true, seed: 11);
        var b = new TensorLoader(X, y, 5, shuffle: true, seed: 11);
        var first = Epoch(a);
        Assert.Equal(first, Epoch(b));
        Assert.NotEqual(first, Epoch(a));
    }

    [Fact]
    public void Drop_last_skips_the_short_batch()
    {
        using var X = torch.zeros(10, 2);
        using var y = torch.zeros(10);
        var loader = new TensorLoader(X, y, 4, dropLast: true);
        Assert.Equal(2, loader.Batches);
        Assert.Equal(2, loader.Count());
    }

    [Fact]
    public void Mismatched_lengths_are_rejected()
    {
        using var X = torch.zeros(10, 2);
        using var y = torch.zeros(9);
        Assert.Throws<ArgumentException>(() => new TensorLoader(X, y, 4));
    }

    [Fact]
    public void Shuffled_features_and_labels_stay_paired()
    {
        // Each label is a function of its row (y = 3·x0 + x1, x1 = i mod 7): a loader that shuffled X and y with
        // different permutations (or indexed one of them by the wrong order) breaks the relation.
        using var X = torch.stack([torch.arange(50).to(torch.float32), torch.arange(50).remainder(7).to(torch.float32)], 1);
        using var y = (3 * X[.., 0] + X[.., 1]).to(torch.int64);
        var loader = new TensorLoader(X, y, batchSize: 8, shuffle: true, seed: 5);
        var order = new List<long>();
        foreach (var (xb, yb) in loader)
        {
            var rows = xb.data<float>().ToArray();
            var labels = yb.data<long>().ToArray();
            for (int i = 0; i < labels.Length; i++)
                Assert.Equal((long)(3 * rows[2 * i] + rows[2 * i + 1]), labels[i]);
            order.AddRange(rows.Where((_, k) => k % 2 == 0).Select(v => (long)v));
        }
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), order);  // it did shuffle
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_on_another_device()
    {
        // The permutation is drawn on the CPU and moved: on libtorch's meta device (no values) it is a meta tensor
        // holding the same order as on the CPU.
        using var cpuX = torch.zeros(12, 2);
        using var cpuY = torch.zeros(12);
        using var metaX = torch.zeros(12, 2, device: torch.device("meta"));
        using var metaY = torch.zeros(12, device: torch.device("meta"));
        using var onCpu = new TensorLoader(cpuX, cpuY, 4, shuffle: true, seed: 9).Permutation(12);
        using var onMeta = new TensorLoader(metaX, metaY, 4, shuffle: true, seed: 9).Permutation(12);
        Assert.Equal(DeviceType.CPU, onCpu.device_type);
        Assert.Equal(DeviceType.META, onMeta.device_type);
        using var reference = torch.randperm(12, generator: new torch.Generator(9));
        Assert.Equal(reference.data<long>().ToArray(), onCpu.data<long>().ToArray());
    }

    [Fact]
    public void Features_and_labels_on_different_devices_are_rejected()
    {
        using var X = torch.zeros(10, 2);
        using var y = torch.zeros(10, device: torch.device("meta"));
        var error = Assert.Throws<ArgumentException>(() => new TensorLoader(X, y, 4));
        Assert.Contains("one device", error.Message);
    }
}

using MLCourse.Data;
using TorchSharp;

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
}

using System.Buffers.Binary;
using System.Diagnostics;
using MLCourse.Data;
using TorchSharp;
using Xunit.Abstractions;

namespace MLCourse.Tests.Data;

/// <summary>Loads MNIST once for the class (about a second).</summary>
public sealed class MnistFixture : IDisposable
{
    public MnistFixture()
    {
        Folder = TestData.Folder(Mnist.Name);
        if (Folder is null) return;
        var clock = Stopwatch.StartNew();
        Data = Mnist.Load(Folder);
        LoadTime = clock.Elapsed;
    }

    public string? Folder { get; }
    public TrainTest? Data { get; }
    public TimeSpan LoadTime { get; }

    public void Dispose() => Data?.Dispose();
}

public class MnistTests(MnistFixture mnist, ITestOutputHelper output) : IClassFixture<MnistFixture>
{
    [SkippableFact]
    public void Loads_60000_train_and_10000_test_images_as_one_float_tensor_each()
    {
        Skip.If(mnist.Data is null, TestData.SkipReason(Mnist.Name));
        var (train, test) = mnist.Data!;
        output.WriteLine($"MNIST 70k load into tensors: {mnist.LoadTime.TotalMilliseconds:F0} ms");
        Assert.Equal([60000L, 1, 28, 28], train.X.shape);
        Assert.Equal([10000L, 1, 28, 28], test.X.shape);
        Assert.Equal(torch.float32, train.X.dtype);
        Assert.Equal(torch.int64, train.y.dtype);
        Assert.Equal([60000L], train.y.shape);
        Assert.Equal(0f, train.X.min().item<float>());
        Assert.Equal(1f, train.X.max().item<float>());
        Assert.Equal(Mnist.ClassNames, train.ClassNames);
    }

    // Reference values computed from the .gz files with python3's gzip module (labels[:10], per-class
    // counts, the pixel sum of image 0, the byte at row 14, column 14 of image 0, the sum of all pixels).
    [SkippableFact]
    public void Labels_and_pixels_match_values_read_with_python()
    {
        Skip.If(mnist.Data is null, TestData.SkipReason(Mnist.Name));
        var (train, test) = mnist.Data!;
        Assert.Equal([5L, 0, 4, 1, 9, 2, 1, 3, 1, 4], train.y.narrow(0, 0, 10).data<long>().ToArray());
        Assert.Equal([7L, 2, 1, 0, 4, 1, 4, 9, 5, 9], test.y.narrow(0, 0, 10).data<long>().ToArray());
        Assert.Equal([5923L, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949], torch.bincount(train.y).data<long>().ToArray());
        Assert.Equal([980L, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009], torch.bincount(test.y).data<long>().ToArray());
        Assert.Equal(240f / 255f, train.X[0, 0, 14, 14].item<float>(), 6);
        Assert.Equal(27525L, PixelSum(train.X[0]));
        Assert.Equal(18454L, PixelSum(test.X[0]));
        Assert.Equal(1567298545L, PixelSum(train.X));
        Assert.Equal(264923200L, PixelSum(test.X));
    }

    [SkippableFact]
    public void One_epoch_of_batches_of_128_covers_every_sample()
    {
        Skip.If(mnist.Data is null, TestData.SkipReason(Mnist.Name));
        var loader = mnist.Data!.Train.Loader(batchSize: 128, shuffle: true, seed: 1);
        Assert.Equal(469, loader.Batches);
        var clock = Stopwatch.StartNew();
        long seen = 0, labelSum = 0;
        foreach (var (X, y) in loader)
        {
            using var sum = y.sum();
            seen += X.shape[0];
            labelSum += sum.item<long>();
            X.Dispose();
            y.Dispose();
        }
        output.WriteLine($"MNIST one epoch, batch 128, shuffled, no model: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(60000, seen);
        Assert.Equal(train_label_sum, labelSum);

        clock.Restart();
        long inOrder = 0;
        foreach (var (X, y) in mnist.Data.Train.Loader(batchSize: 128))
        {
            inOrder += X.shape[0];
            X.Dispose();
            y.Dispose();
        }
        output.WriteLine($"MNIST one epoch, batch 128, in order (slices), no model: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(60000, inOrder);
    }

    // sum over classes of class * count, from the per-class counts above.
    private const long train_label_sum = 0 * 5923 + 1 * 6742 + 2 * 5958 + 3 * 6131 + 4 * 5842 + 5 * 5421 + 6 * 5918 + 7 * 6265 + 8 * 5851 + 9 * 5949;

    [Fact]
    public void A_wrong_idx_magic_names_the_file_and_the_expected_magic()
    {
        using var dir = new TempFolder();
        string path = dir.File("train-labels-idx1-ubyte.gz", TempFolder.Gzip(IdxBytes(0x0803, [2, 1, 1], [0, 0])));
        var error = Assert.Throws<DataSetException>(() => Idx.Read(path, Idx.LabelsMagic));
        Assert.Contains(path, error.Message);
        Assert.Contains("0x00000801", error.Message);
    }

    [Fact]
    public void A_truncated_gz_is_reported_as_truncated()
    {
        using var dir = new TempFolder();
        var full = TempFolder.Gzip(IdxBytes(0x0803, [50, 28, 28], Enumerable.Range(0, 50 * 784).Select(i => (byte)(i * 7 % 251)).ToArray()));
        string path = dir.File("t10k-images-idx3-ubyte.gz", full[..(full.Length / 2)]);
        var error = Assert.Throws<DataSetException>(() => Idx.Read(path, Idx.ImagesMagic));
        Assert.Contains(path, error.Message);
        Assert.Contains("truncated", error.Message);
    }

    [Fact]
    public void Small_idx_files_load_as_scaled_images_and_int64_labels()
    {
        using var dir = new TempFolder();
        byte[] pixels = new byte[2 * 784];
        pixels[784 + 3] = 255;
        pixels[5] = 51;
        string images = dir.File("i.gz", TempFolder.Gzip(IdxBytes(0x0803, [2, 28, 28], pixels)));
        string labels = dir.File("l.gz", TempFolder.Gzip(IdxBytes(0x0801, [2], [3, 9])));
        using var set = IdxImageSet.LoadPart(images, labels, Mnist.ClassNames);
        Assert.Equal([2L, 1, 28, 28], set.X.shape);
        Assert.Equal(0.2f, set.X[0, 0, 0, 5].item<float>(), 6);
        Assert.Equal(1f, set.X[1, 0, 0, 3].item<float>());
        Assert.Equal([3L, 9], set.y.data<long>().ToArray());
        using var first = set.Take(1);
        Assert.Equal([1L, 1, 28, 28], first.X.shape);
        Assert.Equal(3L, first.y.item<long>());
    }

    [Fact]
    public void A_missing_set_names_the_fetch_command()
    {
        using var dir = new TempFolder();
        var error = Assert.Throws<DataSetException>(() => Mnist.Load(dir.Path));
        Assert.Contains("mlcourse data fetch mnist", error.Message);
        Assert.Contains(dir.Path, error.Message);
    }

    /// <summary>The sum of the original bytes of scaled images.</summary>
    internal static long PixelSum(torch.Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        return X.mul(255f).round().to(torch.int64).sum().item<long>();
    }

    internal static byte[] IdxBytes(int magic, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        BinaryPrimitives.WriteInt32BigEndian(bytes, magic);
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * d), dims[d]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }
}

public class FashionMnistTests
{
    // Reference values computed from Debian's .gz files with python3's gzip module.
    [SkippableFact]
    public void Loads_balanced_classes_with_known_first_labels_and_pixels()
    {
        string? folder = TestData.Folder(FashionMnist.Name, "/usr/share/datasets/fashion-mnist");
        Skip.If(folder is null, TestData.SkipReason(FashionMnist.Name) + " and in /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)");
        using var data = FashionMnist.Load(folder);
        Assert.Equal([60000L, 1, 28, 28], data.Train.X.shape);
        Assert.Equal([10000L, 1, 28, 28], data.Test.X.shape);
        Assert.All(torch.bincount(data.Train.y).data<long>().ToArray(), c => Assert.Equal(6000, c));
        Assert.All(torch.bincount(data.Test.y).data<long>().ToArray(), c => Assert.Equal(1000, c));
        Assert.Equal([9L, 0, 0, 3, 0, 2, 7, 2, 5, 5], data.Train.y.narrow(0, 0, 10).data<long>().ToArray());
        Assert.Equal("Ankle boot", data.Train.ClassNames[9]);
        Assert.Equal(217f / 255f, data.Train.X[0, 0, 14, 14].item<float>(), 6);
        Assert.Equal(76247L, MnistTests.PixelSum(data.Train.X[0]));
        Assert.Equal(3431114169L, MnistTests.PixelSum(data.Train.X));
    }
}

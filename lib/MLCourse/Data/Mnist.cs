using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Data;

/// <summary>
/// MNIST handwritten digits: 60,000 training and 10,000 test images of 28x28 pixels.
/// Introduced in chapter 02 (classification with softmax regression).
/// </summary>
public static class Mnist
{
    /// <summary>The name of the set in <c>data/datasets.json</c> and of its folder.</summary>
    public const string Name = "mnist";

    /// <summary>The class names: "0" to "9".</summary>
    public static IReadOnlyList<string> ClassNames { get; } = Enumerable.Range(0, 10).Select(i => i.ToString()).ToArray();

    /// <summary>
    /// Loads both parts onto <see cref="Course.Device"/>: <c>X</c> float32 [N, 1, 28, 28] scaled to [0, 1],
    /// <c>y</c> int64 [N]. <paramref name="path"/> is the folder holding the four idx .gz files; when null the
    /// set is looked up (MLCOURSE_DATA, the repository's data/, the user cache).
    /// </summary>
    public static TrainTest Load(string? path = null) => IdxImageSet.Load(Name, path, ClassNames);
}

/// <summary>
/// Fashion-MNIST: 60,000 training and 10,000 test 28x28 images of Zalando articles in 10 classes, a drop-in
/// replacement for MNIST that is harder. Debian's <c>dataset-fashion-mnist</c> package is found too.
/// Introduced in chapter 02 (classification with softmax regression).
/// </summary>
public static class FashionMnist
{
    /// <summary>The name of the set in <c>data/datasets.json</c> and of its folder.</summary>
    public const string Name = "fashion-mnist";

    /// <summary>The class names, in label order.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>
    /// Loads both parts onto <see cref="Course.Device"/>: <c>X</c> float32 [N, 1, 28, 28] scaled to [0, 1],
    /// <c>y</c> int64 [N]. <paramref name="path"/> is the folder holding the four idx .gz files; when null the
    /// set is looked up (MLCOURSE_DATA, the repository's data/, the user cache, /usr/share/datasets/fashion-mnist).
    /// </summary>
    public static TrainTest Load(string? path = null) => IdxImageSet.Load(Name, path, ClassNames);
}

/// <summary>The MNIST file layout shared by MNIST and Fashion-MNIST.</summary>
internal static class IdxImageSet
{
    internal static TrainTest Load(string setName, string? path, IReadOnlyList<string> classNames)
    {
        string folder = DataLocator.Find(DataManifest.Get(setName), path);
        var train = LoadPart(Path.Combine(folder, "train-images-idx3-ubyte.gz"), Path.Combine(folder, "train-labels-idx1-ubyte.gz"), classNames);
        try
        {
            var test = LoadPart(Path.Combine(folder, "t10k-images-idx3-ubyte.gz"), Path.Combine(folder, "t10k-labels-idx1-ubyte.gz"), classNames);
            return new TrainTest(train, test);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    internal static TensorDataSet LoadPart(string imagesPath, string labelsPath, IReadOnlyList<string> classNames)
    {
        using var scope = torch.NewDisposeScope();
        var (imageDims, pixels) = Idx.ReadTensor(imagesPath, Idx.ImagesMagic);
        var (labelDims, labels) = Idx.Read(labelsPath, Idx.LabelsMagic);
        if (labelDims[0] != imageDims[0])
            throw new DataSetException(
                $"{labelsPath} holds {labelDims[0]} labels but {imagesPath} holds {imageDims[0]} images; expected the same count.", labelsPath);
        int outOfRange = labels.Count(l => l >= classNames.Count);
        if (outOfRange > 0)
            throw new DataSetException($"{labelsPath} has {outOfRange} labels outside 0..{classNames.Count - 1}.", labelsPath);

        var device = Course.Device;
        var X = pixels.view(imageDims[0], 1, imageDims[1], imageDims[2]).to(ScalarType.Float32, device).div_(255f);
        var y = torch.tensor(labels, [labelDims[0]], device: device).to_type(ScalarType.Int64);
        return new TensorDataSet(scope.MoveToOuter(X), scope.MoveToOuter(y), classNames);
    }
}

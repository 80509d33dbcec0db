using static TorchSharp.torch;

namespace MLCourse.Data;

/// <summary>
/// A data set held as two tensors on <see cref="Course.Device"/>: features <c>X</c> and targets <c>y</c>,
/// with class and feature names when the set has them. Batches come from <see cref="Loader"/>.
/// Introduced in chapter 01 (data sets and mini-batches).
/// </summary>
public sealed class TensorDataSet : IDisposable
{
    /// <summary>Wraps <paramref name="X"/> and <paramref name="y"/> (same first dimension).</summary>
    public TensorDataSet(Tensor X, Tensor y, IReadOnlyList<string>? classNames = null, IReadOnlyList<string>? featureNames = null)
    {
        if (X.shape[0] != y.shape[0]) throw new ArgumentException($"X has {X.shape[0]} samples but y has {y.shape[0]}.");
        this.X = X;
        this.y = y;
        ClassNames = classNames ?? [];
        FeatureNames = featureNames ?? [];
    }

    /// <summary>All features, first dimension = samples.</summary>
    public Tensor X { get; }

    /// <summary>All targets: class indices (int64) for classification, values (float32) for regression.</summary>
    public Tensor y { get; }

    /// <summary>Name of each class index (empty for regression).</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Name of each feature column of a tabular set (empty for images).</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Number of samples.</summary>
    public long Count => X.shape[0];

    /// <summary>Mini-batches over this set (see <see cref="TensorLoader"/>).</summary>
    public TensorLoader Loader(int batchSize, bool shuffle = false, long seed = 0, bool dropLast = false) =>
        new(X, y, batchSize, shuffle, seed, dropLast);

    /// <summary>
    /// The first <paramref name="count"/> samples (all when there are fewer), as views of the same tensors:
    /// quick mode writes <c>train.Take(Course.Pick(60000, 2000))</c>.
    /// </summary>
    public TensorDataSet Take(long count)
    {
        long n = Math.Clamp(count, 0, Count);
        return new TensorDataSet(X.narrow(0, 0, n), y.narrow(0, 0, n), ClassNames, FeatureNames);
    }

    /// <summary>Frees the tensors.</summary>
    public void Dispose()
    {
        X.Dispose();
        y.Dispose();
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"{Count} samples, X {Shape(X)} {X.dtype}, y {Shape(y)} {y.dtype}" + (ClassNames.Count > 0 ? $", {ClassNames.Count} classes" : "");

    private static string Shape(Tensor t) => "[" + string.Join(", ", t.shape) + "]";
}

/// <summary>A train/test pair of tensor data sets. Introduced in chapter 01.</summary>
/// <param name="Train">The training part.</param>
/// <param name="Test">The test part.</param>
public sealed record TrainTest(TensorDataSet Train, TensorDataSet Test) : IDisposable
{
    /// <summary>Frees both parts.</summary>
    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// k-nearest neighbours (K-近邻): keep the training set; a query point takes the majority class among its k nearest
/// training points by Euclidean distance. Tie rule (deterministic): among classes with the most votes, the one
/// whose member is nearest to the query wins; neighbours at equal distance are ordered by training index.
/// Scale features first (归一化): distances mix units. Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class KNearestNeighbors
{
    private Tensor? Xtrain;
    private long[] ytrain = [];

    /// <summary>Creates a classifier that votes among <paramref name="k"/> neighbours.</summary>
    /// <param name="k">Neighbours per vote: small k follows local detail (over-fits), large k smooths the boundary.</param>
    public KNearestNeighbors(int k = 5)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive.");
        K = k;
    }

    /// <summary>Neighbours per vote.</summary>
    public int K { get; }

    /// <summary>Number of classes seen in training.</summary>
    public int NumClasses { get; private set; }

    /// <summary>"Training" is remembering the data: stores a copy of <paramref name="X"/> (samples, features) and labels <paramref name="y"/> (0..C-1).</summary>
    public KNearestNeighbors Fit(Tensor X, Tensor y)
    {
        TensorArrays.CheckSameLength(X, y);
        ytrain = TensorArrays.Labels(y);
        NumClasses = TensorArrays.NumClasses(ytrain);
        if (K > ytrain.Length) throw new ArgumentException($"k = {K} but there are only {ytrain.Length} training points.");
        Xtrain?.Dispose();
        Xtrain = TensorArrays.Keep(X.to(float64));
        return this;
    }

    /// <summary>Euclidean distances (queries, training points) from each row of <paramref name="X"/> to every training point (torch.cdist).</summary>
    public Tensor Distances(Tensor X)
    {
        var train = Xtrain ?? throw new InvalidOperationException("Call Fit before using the classifier.");
        using var queries = X.to(float64, train.device);
        return torch.cdist(queries, train); // (m, n)
    }

    /// <summary>Indices of the k nearest training points of each query (queries, k), nearest first.</summary>
    public Tensor Neighbors(Tensor X)
    {
        var (_, index) = Nearest(X);
        return torch.tensor(index.SelectMany(r => r).ToArray(), index.Length, K).to(X.device);
    }

    /// <summary>Predicted class (int64) of each row of <paramref name="X"/> by majority vote of the k nearest neighbours.</summary>
    public Tensor Predict(Tensor X)
    {
        var (_, index) = Nearest(X);
        var predictions = index.Select(Vote).ToArray();
        return TensorArrays.ToTensor(predictions, X.device);
    }

    private long Vote(long[] neighbours)
    {
        var votes = new int[NumClasses];
        foreach (long i in neighbours) votes[ytrain[i]]++;
        int most = votes.Max();
        // neighbours are sorted nearest first, so the first one whose class has the most votes breaks the tie
        return neighbours.Select(i => ytrain[i]).First(c => votes[c] == most);
    }

    /// <summary>Per query, the k nearest (distance, index) pairs sorted by distance, then index.</summary>
    private (double[][] distance, long[][] index) Nearest(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        var d = Distances(X);
        var (values, indices) = d.topk(K, dim: 1, largest: false, sorted: true);
        var v = values.cpu().data<double>().ToArray();
        var ix = indices.cpu().data<long>().ToArray();
        int m = (int)d.shape[0];
        var dist = new double[m][];
        var idx = new long[m][];
        for (int q = 0; q < m; q++)
        {
            var order = Enumerable.Range(q * K, K).OrderBy(j => v[j]).ThenBy(j => ix[j]).ToArray();
            dist[q] = order.Select(j => v[j]).ToArray();
            idx[q] = order.Select(j => ix[j]).ToArray();
        }
        return (dist, idx);
    }
}

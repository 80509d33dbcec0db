using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// A random forest (随机森林): many <see cref="DecisionTree"/>s, each grown on a bootstrap sample (drawn with
/// replacement) and choosing each split among a random subset of features; the forest predicts by majority vote
/// (ties: the smaller class index). Seeded, so a run repeats exactly. Introduced in chapter 03.
/// </summary>
public sealed class RandomForest
{
    private readonly List<DecisionTree> trees = [];

    /// <summary>Creates an untrained forest.</summary>
    /// <param name="numTrees">Number of trees.</param>
    /// <param name="maxDepth">Depth limit of each tree.</param>
    /// <param name="maxFeatures">Features drawn per split; null means ⌈√d⌉.</param>
    /// <param name="criterion">Split criterion of the trees.</param>
    /// <param name="seed">Seed of the bootstrap samples and feature draws.</param>
    public RandomForest(int numTrees = 50, int maxDepth = 10, int? maxFeatures = null,
                        SplitCriterion criterion = SplitCriterion.Gini, int seed = 42)
    {
        if (numTrees <= 0) throw new ArgumentOutOfRangeException(nameof(numTrees), "numTrees must be positive.");
        NumTrees = numTrees;
        MaxDepth = maxDepth;
        MaxFeatures = maxFeatures;
        Criterion = criterion;
        Seed = seed;
    }

    /// <summary>Number of trees.</summary>
    public int NumTrees { get; }

    /// <summary>Depth limit of each tree.</summary>
    public int MaxDepth { get; }

    /// <summary>Features drawn per split, or null for ⌈√d⌉.</summary>
    public int? MaxFeatures { get; }

    /// <summary>Split criterion of the trees.</summary>
    public SplitCriterion Criterion { get; }

    /// <summary>Seed of the forest.</summary>
    public int Seed { get; }

    /// <summary>The fitted trees.</summary>
    public IReadOnlyList<DecisionTree> Trees => trees;

    /// <summary>Mean of the trees' feature importances.</summary>
    public IReadOnlyList<double> FeatureImportances =>
        Enumerable.Range(0, trees.Count == 0 ? 0 : trees[0].NumFeatures)
            .Select(j => trees.Average(t => t.FeatureImportances[j])).ToArray();

    /// <summary>Grows the forest on <paramref name="X"/> (samples, features) and labels <paramref name="y"/> (0..C-1).</summary>
    /// <param name="X">Features.</param>
    /// <param name="y">Class indices.</param>
    /// <param name="categorical">Per column, whether it is categorical; null means all numeric.</param>
    public RandomForest Fit(Tensor X, Tensor y, IReadOnlyList<bool>? categorical = null)
    {
        TensorArrays.CheckSameLength(X, y);
        var rows = TensorArrays.Rows(X);
        var labels = TensorArrays.Labels(y);
        int numClasses = TensorArrays.NumClasses(labels);
        int d = rows[0].Length;
        int perSplit = MaxFeatures ?? (int)Math.Ceiling(Math.Sqrt(d));
        var random = new Random(Seed);
        trees.Clear();
        for (int t = 0; t < NumTrees; t++)
        {
            var bootstrap = Enumerable.Range(0, rows.Length).Select(_ => random.Next(rows.Length)).ToArray();
            var tree = new DecisionTree(MaxDepth, criterion: Criterion, maxFeatures: perSplit, seed: random.Next());
            trees.Add(tree.Fit(rows, labels, bootstrap, categorical, numClasses));
        }
        return this;
    }

    /// <summary>Majority vote of the trees (ties: the smaller class index), int64 per row.</summary>
    public Tensor Predict(Tensor X)
    {
        if (trees.Count == 0) throw new InvalidOperationException("Call Fit before Predict.");
        int numClasses = trees[0].NumClasses;
        var predictions = TensorArrays.Rows(X).Select(row =>
        {
            var votes = new int[numClasses];
            foreach (var tree in trees) votes[tree.PredictRow(row)]++;
            return (long)Array.IndexOf(votes, votes.Max());
        }).ToArray();
        return TensorArrays.ToTensor(predictions, X.device);
    }
}

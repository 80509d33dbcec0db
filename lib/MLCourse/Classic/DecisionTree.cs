using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>How a <see cref="DecisionTree"/> scores a candidate split. Introduced in chapter 03.</summary>
public enum SplitCriterion
{
    /// <summary>ID3: information gain H(D) − H(D|A), entropies in bits.</summary>
    InformationGain,
    /// <summary>C4.5: information gain divided by the split information H_A(D).</summary>
    GainRatio,
    /// <summary>CART: decrease of the Gini index 1 − Σ p_k².</summary>
    Gini,
}

/// <summary>
/// A decision tree classifier (决策树) in the ID3/CART style: divide and conquer, at each node choose the feature
/// whose split makes the labels purest. Categorical features split into one child per value (ID3); numeric
/// features split in two at the best threshold x ≤ t, t a midpoint between sorted values (CART).
/// Labels are int64 class indices 0..C-1. Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class DecisionTree
{
    private readonly Random random;
    private Node? root;
    private bool[] categorical = [];
    private double[] importances = [];

    /// <summary>Creates an untrained tree.</summary>
    /// <param name="maxDepth">Deepest level of splits (the root is depth 0); limits over-fitting (过拟合).</param>
    /// <param name="minSamplesSplit">A node with fewer samples becomes a leaf.</param>
    /// <param name="criterion">How splits are scored.</param>
    /// <param name="maxFeatures">When set, each node considers only this many randomly drawn features (random forests).</param>
    /// <param name="seed">Seed of the feature draws.</param>
    public DecisionTree(int maxDepth = 10, int minSamplesSplit = 2, SplitCriterion criterion = SplitCriterion.InformationGain,
                        int? maxFeatures = null, int seed = 42)
    {
        if (maxDepth < 0) throw new ArgumentOutOfRangeException(nameof(maxDepth), "maxDepth must be ≥ 0.");
        if (maxFeatures is <= 0) throw new ArgumentOutOfRangeException(nameof(maxFeatures), "maxFeatures must be positive.");
        MaxDepth = maxDepth;
        MinSamplesSplit = minSamplesSplit;
        Criterion = criterion;
        MaxFeatures = maxFeatures;
        random = new Random(seed);
    }

    /// <summary>Deepest level of splits.</summary>
    public int MaxDepth { get; }

    /// <summary>Nodes with fewer samples are not split.</summary>
    public int MinSamplesSplit { get; }

    /// <summary>The split criterion.</summary>
    public SplitCriterion Criterion { get; }

    /// <summary>Features drawn per node, or null for all.</summary>
    public int? MaxFeatures { get; }

    /// <summary>Number of classes seen in training.</summary>
    public int NumClasses { get; private set; }

    /// <summary>Number of features seen in training.</summary>
    public int NumFeatures { get; private set; }

    /// <summary>Depth of the fitted tree (a single leaf has depth 0).</summary>
    public int Depth => Measure(Root).depth;

    /// <summary>Number of leaves of the fitted tree.</summary>
    public int LeafCount => Measure(Root).leaves;

    /// <summary>The feature split at the root, or −1 when the tree is a single leaf.</summary>
    public int RootFeature => Root.Feature;

    /// <summary>
    /// Impurity decrease contributed by each feature, weighted by the share of samples at the node and normalised
    /// to sum to 1 (all zeros for a single leaf). Shows which features the tree relies on.
    /// </summary>
    public IReadOnlyList<double> FeatureImportances => importances;

    private Node Root => root ?? throw new InvalidOperationException("Call Fit before using the tree.");

    /// <summary>Grows the tree on <paramref name="X"/> (samples, features) and labels <paramref name="y"/>.</summary>
    /// <param name="X">Features; categorical columns hold integer codes (see <see cref="Categorical.Encode"/>).</param>
    /// <param name="y">Class indices 0..C-1.</param>
    /// <param name="categorical">Per column, whether it is categorical (multiway split); null means all numeric.</param>
    public DecisionTree Fit(Tensor X, Tensor y, IReadOnlyList<bool>? categorical = null)
    {
        TensorArrays.CheckSameLength(X, y);
        var rows = TensorArrays.Rows(X);
        var labels = TensorArrays.Labels(y);
        return Fit(rows, labels, Enumerable.Range(0, rows.Length).ToArray(), categorical);
    }

    /// <summary>Grows the tree on the samples <paramref name="sample"/> (indices, repeats allowed) of the arrays.</summary>
    internal DecisionTree Fit(double[][] rows, long[] labels, int[] sample, IReadOnlyList<bool>? categorical, int? numClasses = null)
    {
        NumFeatures = rows.Length == 0 ? 0 : rows[0].Length;
        NumClasses = numClasses ?? TensorArrays.NumClasses(labels);
        if (categorical is not null && categorical.Count != NumFeatures)
            throw new ArgumentException($"categorical has {categorical.Count} entries but X has {NumFeatures} features.");
        this.categorical = categorical?.ToArray() ?? new bool[NumFeatures];
        importances = new double[NumFeatures];
        root = Grow(rows, labels, sample, depth: 0, total: sample.Length);
        double sum = importances.Sum();
        if (sum > 0) for (int j = 0; j < importances.Length; j++) importances[j] /= sum;
        return this;
    }

    /// <summary>Predicted class index (int64) for each row of <paramref name="X"/>.</summary>
    public Tensor Predict(Tensor X)
    {
        var predictions = TensorArrays.Rows(X).Select(PredictRow).ToArray();
        return TensorArrays.ToTensor(predictions, X.device);
    }

    internal long PredictRow(double[] row)
    {
        var node = Root;
        while (!node.IsLeaf)
        {
            double v = row[node.Feature];
            Node? next = node.Children is not null
                ? node.Children.GetValueOrDefault((long)Math.Round(v))
                : v <= node.Threshold ? node.Left : node.Right;
            if (next is null) break; // a category never seen at this node: answer with the node's majority
            node = next;
        }
        return node.Prediction;
    }

    /// <summary>
    /// The tree as indented text, one node per line: the feature asked at each node, the answer on each branch, the
    /// predicted class at each leaf, and in brackets the class counts of the training samples that reached the node.
    /// For example <c>age = middle: → high  [high 3, low 0]</c>.
    /// </summary>
    /// <param name="featureNames">Names of the features (default x0, x1, …).</param>
    /// <param name="classNames">Names of the classes (default the indices).</param>
    /// <param name="categoryNames">Per feature, the names of its category codes (as returned by <see cref="Categorical.Encode"/>).</param>
    public string Render(IReadOnlyList<string>? featureNames = null, IReadOnlyList<string>? classNames = null,
                         IReadOnlyList<IReadOnlyList<string>>? categoryNames = null)
    {
        string Feature(int j) => featureNames is not null && j < featureNames.Count ? featureNames[j] : $"x{j}";
        string Class(long c) => classNames is not null && c < classNames.Count ? classNames[(int)c] : c.ToString();
        string Category(int j, long code) => categoryNames is not null && j < categoryNames.Count && code < categoryNames[j].Count
            ? categoryNames[j][(int)code] : code.ToString();
        string Counts(Node n) => classNames is null
            ? string.Join(", ", n.Counts)
            : string.Join(", ", n.Counts.Select((count, c) => $"{Class(c)} {count}"));
        string Describe(Node n) => n.IsLeaf
            ? $"→ {Class(n.Prediction)}  [{Counts(n)}]"
            : $"{Feature(n.Feature)}?  [{Counts(n)}]";

        var text = new StringBuilder();
        text.AppendLine(Describe(Root));
        void Walk(Node n, string indent)
        {
            var branches = n.Children is not null
                ? n.Children.OrderBy(kv => kv.Key).Select(kv => ($"{Feature(n.Feature)} = {Category(n.Feature, kv.Key)}", kv.Value)).ToList()
                : [($"{Feature(n.Feature)} ≤ {n.Threshold:G4}", n.Left!), ($"{Feature(n.Feature)} > {n.Threshold:G4}", n.Right!)];
            for (int i = 0; i < branches.Count; i++)
            {
                bool last = i == branches.Count - 1;
                var (condition, child) = branches[i];
                text.AppendLine($"{indent}{(last ? "└─ " : "├─ ")}{condition}: {Describe(child)}");
                if (!child.IsLeaf) Walk(child, indent + (last ? "   " : "│  "));
            }
        }
        if (!Root.IsLeaf) Walk(Root, "");
        return text.ToString().TrimEnd();
    }

    /// <summary>The tree rendered with default names.</summary>
    public override string ToString() => root is null ? "DecisionTree (not fitted)" : Render();

    // ---- growing -------------------------------------------------------------------------------------------

    private sealed class Node
    {
        public int Feature = -1;                    // −1 for a leaf
        public double Threshold;                    // numeric split: left is x ≤ Threshold
        public Dictionary<long, Node>? Children;    // categorical split: one child per value
        public Node? Left, Right;
        public long Prediction;                     // majority class (ties: the smaller index)
        public long[] Counts = [];                  // training samples per class at this node
        public bool IsLeaf => Feature < 0;
    }

    private Node Grow(double[][] rows, long[] labels, int[] sample, int depth, int total)
    {
        var counts = CountClasses(labels, sample);
        var node = new Node { Counts = counts, Prediction = ArgMax(counts) };
        bool pure = counts.Count(c => c > 0) <= 1;
        if (pure || depth >= MaxDepth || sample.Length < MinSamplesSplit) return node;

        if (BestSplit(rows, labels, sample, counts) is not { } split) return node;
        var (feature, threshold, impurityDecrease) = split;
        importances[feature] += (double)sample.Length / total * impurityDecrease;
        node.Feature = feature;
        if (categorical[feature])
        {
            node.Children = sample.GroupBy(i => (long)Math.Round(rows[i][feature]))
                .ToDictionary(g => g.Key, g => Grow(rows, labels, g.ToArray(), depth + 1, total));
        }
        else
        {
            node.Threshold = threshold;
            node.Left = Grow(rows, labels, sample.Where(i => rows[i][feature] <= threshold).ToArray(), depth + 1, total);
            node.Right = Grow(rows, labels, sample.Where(i => rows[i][feature] > threshold).ToArray(), depth + 1, total);
        }
        return node;
    }

    /// <summary>The best (feature, threshold, impurity decrease) by the criterion; null when no split improves purity.</summary>
    private (int feature, double threshold, double impurityDecrease)? BestSplit(
        double[][] rows, long[] labels, int[] sample, long[] parentCounts)
    {
        var features = Enumerable.Range(0, NumFeatures).ToArray();
        if (MaxFeatures is int m && m < NumFeatures)
        {
            random.Shuffle(features);
            features = features[..m].Order().ToArray();
        }
        (int, double, double)? best = null;
        double bestScore = 1e-12; // a split must strictly improve purity
        foreach (int j in features)
        {
            if (categorical[j])
            {
                var parts = sample.GroupBy(i => (long)Math.Round(rows[i][j])).Select(g => CountClasses(labels, g)).ToList();
                if (parts.Count < 2) continue;
                var (score, decrease) = Score(parentCounts, parts);
                if (score > bestScore) { bestScore = score; best = (j, double.NaN, decrease); }
            }
            else
            {
                var order = sample.OrderBy(i => rows[i][j]).ToArray();
                var left = new long[NumClasses];
                var right = (long[])parentCounts.Clone();
                for (int k = 0; k < order.Length - 1; k++)
                {
                    left[labels[order[k]]]++;
                    right[labels[order[k]]]--;
                    double v = rows[order[k]][j], next = rows[order[k + 1]][j];
                    if (v == next) continue;
                    var (score, decrease) = Score(parentCounts, [left, right]);
                    if (score > bestScore) { bestScore = score; best = (j, (v + next) / 2, decrease); }
                }
            }
        }
        return best;
    }

    /// <summary>(criterion score, impurity decrease) of splitting a node with <paramref name="parent"/> counts into <paramref name="parts"/>.</summary>
    private (double score, double decrease) Score(long[] parent, IReadOnlyList<long[]> parts)
    {
        double n = parent.Sum();
        Func<long[], double> impurity = Criterion == SplitCriterion.Gini ? Entropy.GiniFromCounts : Entropy.FromCounts;
        double decrease = impurity(parent) - parts.Sum(p => p.Sum() / n * impurity(p));
        if (Criterion != SplitCriterion.GainRatio) return (decrease, decrease);
        double splitInformation = Entropy.FromCounts(parts.Select(p => p.Sum()).ToArray());
        return (splitInformation <= 0 ? 0 : decrease / splitInformation, decrease);
    }

    private long[] CountClasses(long[] labels, IEnumerable<int> sample)
    {
        var counts = new long[NumClasses];
        foreach (int i in sample) counts[labels[i]]++;
        return counts;
    }

    private static long ArgMax(long[] counts)
    {
        int best = 0;
        for (int c = 1; c < counts.Length; c++) if (counts[c] > counts[best]) best = c;
        return best;
    }

    private static (int depth, int leaves) Measure(Node n)
    {
        if (n.IsLeaf) return (0, 1);
        var children = n.Children?.Values.ToList() ?? [n.Left!, n.Right!];
        var measured = children.Select(Measure).ToList();
        return (1 + measured.Max(m => m.depth), measured.Sum(m => m.leaves));
    }
}

using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>How <see cref="KMeans"/> picks its first centres. Introduced in chapter 03.</summary>
public enum KMeansInit
{
    /// <summary>k distinct training points drawn uniformly (the lecture's step 1).</summary>
    Random,
    /// <summary>k-means++: the first centre uniformly, each next one with probability ∝ squared distance to the nearest chosen centre.</summary>
    PlusPlus,
}

/// <summary>
/// k-means clustering (K均值聚类) in the lecture's four steps: (1) choose k initial centres; (2) assign every point to
/// its nearest centre (Euclidean distance); (3) move each centre to the mean of its points; (4) repeat 2–3 until
/// the assignment no longer changes. <see cref="Step"/> runs 2–3 once, so a notebook can draw every iteration.
/// A centre that loses all its points stays where it is. Introduced in chapter 03 (classic machine learning).
/// </summary>
public sealed class KMeans
{
    private readonly Random random;
    private Tensor? centers, labels;

    /// <summary>Creates a k-means with <paramref name="k"/> clusters.</summary>
    /// <param name="k">Number of clusters (chosen by hand).</param>
    /// <param name="init">How the first centres are chosen.</param>
    /// <param name="maxIterations">Upper bound on the steps of <see cref="Fit"/>.</param>
    /// <param name="seed">Seed of the initial choice.</param>
    public KMeans(int k, KMeansInit init = KMeansInit.PlusPlus, int maxIterations = 100, int seed = 42)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive.");
        K = k;
        Init = init;
        MaxIterations = maxIterations;
        random = new Random(seed);
    }

    /// <summary>Number of clusters.</summary>
    public int K { get; }

    /// <summary>Initialisation method.</summary>
    public KMeansInit Init { get; }

    /// <summary>Upper bound on the steps of <see cref="Fit"/>.</summary>
    public int MaxIterations { get; }

    /// <summary>The current centres, shape (k, d).</summary>
    public Tensor Centers => centers ?? throw new InvalidOperationException("Call Initialize or Fit first.");

    /// <summary>Cluster of each training point after the last <see cref="Step"/> (int64, shape (n)), or null before the first step.</summary>
    public Tensor? Labels => labels;

    /// <summary>Steps run since the centres were initialised.</summary>
    public int Iterations { get; private set; }

    /// <summary>Whether the last step left the assignment unchanged.</summary>
    public bool Converged { get; private set; }

    /// <summary>Sum of squared distances from each point to its centre after the last step (the quantity k-means lowers).</summary>
    public double Inertia { get; private set; } = double.NaN;

    /// <summary>Step 1: chooses k initial centres from the rows of <paramref name="X"/>.</summary>
    public KMeans Initialize(Tensor X)
    {
        if (X.dim() != 2 || X.shape[0] < K) throw new ArgumentException($"X must be 2-D with at least k = {K} rows.");
        var rows = TensorArrays.Rows(X);
        var chosen = new List<int>();
        if (Init == KMeansInit.Random)
        {
            chosen.AddRange(Enumerable.Range(0, rows.Length).OrderBy(_ => random.Next()).Take(K));
        }
        else
        {
            chosen.Add(random.Next(rows.Length));
            var nearest = rows.Select(r => SquaredDistance(r, rows[chosen[0]])).ToArray();
            while (chosen.Count < K)
            {
                double total = nearest.Sum();
                int next;
                if (total <= 0) next = Enumerable.Range(0, rows.Length).First(i => !chosen.Contains(i));
                else
                {
                    double u = random.NextDouble() * total, running = 0;
                    next = rows.Length - 1;
                    for (int i = 0; i < rows.Length; i++)
                        if ((running += nearest[i]) >= u && nearest[i] > 0) { next = i; break; }
                }
                chosen.Add(next);
                for (int i = 0; i < rows.Length; i++) nearest[i] = Math.Min(nearest[i], SquaredDistance(rows[i], rows[next]));
            }
        }
        SetCenters(torch.tensor(chosen.SelectMany(i => rows[i]).ToArray(), K, rows[0].Length, device: X.device));
        labels = null;
        Iterations = 0;
        Converged = false;
        Inertia = double.NaN;
        return this;
    }

    /// <summary>Sets the centres by hand (shape (k, d)), e.g. to replay a worked example; resets the labels.</summary>
    public KMeans Initialize(Tensor X, Tensor initialCenters)
    {
        if (initialCenters.shape[0] != K) throw new ArgumentException($"Expected {K} centres, got {initialCenters.shape[0]}.");
        SetCenters(initialCenters.to(float64, X.device));
        labels = null;
        Iterations = 0;
        Converged = false;
        Inertia = double.NaN;
        return this;
    }

    /// <summary>Step 2: the index (int64) of the nearest centre for each row of <paramref name="X"/>.</summary>
    public Tensor Assign(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        return torch.cdist(X.to(float64), Centers).argmin(1).MoveToOuterDisposeScope(); // (n)
    }

    /// <summary>
    /// One iteration: assign every point to its nearest centre (step 2), then move each centre to the mean of its
    /// points (step 3). Returns true when the assignment changed, false once it is stable (step 4's stop).
    /// </summary>
    public bool Step(Tensor X)
    {
        using var scope = torch.NewDisposeScope();
        var x = X.to(float64);
        var assignment = Assign(x);                                               // (n)
        bool changed = labels is null || !assignment.eq(labels).all().item<bool>();
        var oneHot = nn.functional.one_hot(assignment, K).to(float64);            // (n, k)
        var counts = oneHot.sum(dim: 0).unsqueeze(1);                                  // (k, 1)
        var sums = oneHot.T.matmul(x);                                            // (k, d)
        var updated = torch.where(counts > 0, sums / counts.clamp_min(1), Centers); // empty cluster: keep its centre
        SetCenters(updated);
        labels = TensorArrays.Keep(assignment);
        Inertia = (x - Centers.index_select(0, assignment)).pow(2).sum().item<double>();
        Iterations++;
        Converged = !changed;
        return changed;
    }

    /// <summary>Initialises (step 1) and repeats <see cref="Step"/> until the assignment is stable or <see cref="MaxIterations"/> is reached.</summary>
    public KMeans Fit(Tensor X)
    {
        Initialize(X);
        while (Iterations < MaxIterations && Step(X)) { }
        return this;
    }

    // Earlier centres are not disposed: a notebook may keep them to draw the iterations.
    private void SetCenters(Tensor value) => centers = TensorArrays.Keep(value.to(float64));

    private static double SquaredDistance(double[] a, double[] b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += (a[j] - b[j]) * (a[j] - b[j]);
        return s;
    }
}

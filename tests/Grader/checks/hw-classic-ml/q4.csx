// Checks of hw-classic-ml.q4, KnnPredict(XTrain, yTrain, XQuery, k) (3 points). Compiled by the grader as a
// continuation of the student's session: `KnnPredict` is the student's function, `KNearestNeighbors` the reference
// (majority vote; among tied classes the one with the nearest member wins).
using MLCourse.Classic;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-classic-ml.q4", Points = 3)]
sealed class KnnPredictCheck(Func<Tensor, Tensor, Tensor, int, Tensor> KnnPredict) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        void Compare(int classes, Func<int, int> pickK, string rule)
        {
            for (int trial = 0; trial < 3; trial++)
            {
                int n = grade.Random.Next(20, 150), m = grade.Random.Next(10, 60), d = grade.Random.Next(1, 6);
                int k = Math.Min(pickK(n), n);
                var centres = torch.randn(classes, d, dtype: float64) * 2;
                var yTrain = torch.arange(n, dtype: int64) % classes;                           // every class present
                var XTrain = torch.randn(n, d, dtype: float64) + centres.index_select(0, yTrain);
                var XQuery = torch.randn(m, d, dtype: float64) * 2;
                var expected = new KNearestNeighbors(k).Fit(XTrain, yTrain).Predict(XQuery);
                string what = $"KnnPredict({n} training points, {classes} classes, {m} queries, d = {d}, k = {k})";
                Tensor actual;
                try
                {
                    actual = KnnPredict(XTrain.clone(), yTrain.clone(), XQuery.clone(), k);
                }
                catch (Exception) when (k == n && k > 1 && OffByOne(XTrain, yTrain, XQuery, k, expected))
                {
                    Expect.Fail($"{what} failed, while with k − 1 = {k - 1} your function returns the prediction of all {k} neighbours: "
                                + "k is off by one (it takes k + 1 rows, more than there are); take exactly the k nearest rows.");
                    throw;
                }
                Expect.Shape(actual, [m], what);
                long wrong = actual.to(int64).cpu().ne(expected).sum().item<long>();
                if (wrong > 0 && Mistake(XTrain, yTrain, XQuery, k, actual.to(int64).cpu()) is { } mistake)
                    Expect.Fail($"{what}: {wrong} of {m} predictions differ from the reference; {mistake}");
                Expect.That(wrong == 0, $"{what}: {wrong} of {m} predictions differ from the reference. {rule}");
            }
        }

        grade.Part("two classes, odd k", 1, () =>
            Compare(2, _ => 2 * grade.Random.Next(0, 5) + 1,
                "Take the k training rows with the smallest Euclidean distance to the query and return their most common label."));

        grade.Part("several classes, even k (ties in the vote)", 1.5, () =>
            Compare(grade.Random.Next(3, 6), _ => 2 * grade.Random.Next(1, 4),
                "When classes tie for the most votes, return the tied class whose member is nearest to the query."));

        grade.Part("k = 1 and k = n", 0.5, () =>
        {
            Compare(3, _ => 1, "With k = 1, return the label of the single nearest training row.");
            Compare(3, n => n, "With k = n every training row votes; ties go to the tied class with the nearest member.");
        });
    }

    /// <summary>Whether the student's function, called with k − 1, returns the k-NN prediction (it uses one neighbour too many).</summary>
    private bool OffByOne(Tensor XTrain, Tensor yTrain, Tensor XQuery, int k, Tensor expected)
    {
        try
        {
            return KnnPredict(XTrain.clone(), yTrain.clone(), XQuery.clone(), k - 1).to(int64).cpu().eq(expected).all().item<bool>();
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>k-NN with a given distance (p), number of neighbours and tie rule (nearest member, or smallest label).</summary>
    private static Tensor Knn(Tensor XTrain, Tensor yTrain, Tensor XQuery, int k, double p, bool smallestLabelWins)
    {
        var (_, nearest) = torch.cdist(XQuery, XTrain, p: p).topk(k, dim: 1, largest: false, sorted: true);
        var labels = yTrain.data<long>().ToArray();
        var index = nearest.data<long>().ToArray();
        var result = new long[XQuery.shape[0]];
        for (int q = 0; q < result.Length; q++)
        {
            var neighbours = index.Skip(q * k).Take(k).Select(i => labels[i]).ToArray();
            var votes = neighbours.GroupBy(c => c).ToDictionary(g => g.Key, g => g.Count());
            int most = votes.Values.Max();
            result[q] = smallestLabelWins ? votes.Where(v => v.Value == most).Min(v => v.Key) : neighbours.First(c => votes[c] == most);
        }
        return torch.tensor(result);
    }

    /// <summary>The typical wrong k-NNs (each a mutation of the solution), on the same data: the message of the one the student's predictions match, or null.</summary>
    private static string? Mistake(Tensor XTrain, Tensor yTrain, Tensor XQuery, int k, Tensor actual)
    {
        using var scope = torch.NewDisposeScope();
        long n = XTrain.shape[0];
        var mistakes = new List<(string Message, Func<Tensor> Predict)>
        {
            ("they are those of a vote where tied classes go to the SMALLEST label: among tied classes, return the one whose member is "
             + "nearest to the query.", () => Knn(XTrain, yTrain, XQuery, k, 2, true)),
            ("they are those of the nearest neighbours in Manhattan (L1) distance, Σ|x − x'|: use the Euclidean distance (torch.cdist, p = 2).",
             () => Knn(XTrain, yTrain, XQuery, k, 1, false)),
        };
        if (k + 1 <= n)
            mistakes.Add(($"they are those of a vote among k + 1 = {k + 1} neighbours: k is off by one, take exactly the k nearest rows.",
                          () => Knn(XTrain, yTrain, XQuery, k + 1, 2, false)));
        if (k > 1)
            mistakes.Add(($"they are those of a vote among k − 1 = {k - 1} neighbours: k is off by one, take exactly the k nearest rows.",
                          () => Knn(XTrain, yTrain, XQuery, k - 1, 2, false)));
        if (!actual.shape.SequenceEqual(new[] { XQuery.shape[0] })) return null;
        // On a small random data set two mistakes can give the same predictions (e.g. k + 1 neighbours and the L1
        // distance): then each is named, so the student is never sent after the wrong one.
        var matches = mistakes.Where(m => actual.eq(m.Predict()).all().item<bool>()).Select(m => m.Message).ToList();
        return matches.Count switch
        {
            0 => null,
            1 => matches[0],
            _ => "on this data they match more than one typical mistake, either " + string.Join(" Or ", matches),
        };
    }
}

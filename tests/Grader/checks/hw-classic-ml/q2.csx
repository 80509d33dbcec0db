// Checks of hw-classic-ml.q2, KMeansStep(X, centers) (3 points). Compiled by the grader as a continuation of the
// student's session: `KMeansStep` is the student's function, `KMeans` (one Step from given centres) the reference.
using MLCourse.Classic;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-classic-ml.q2", Points = 3)]
sealed class KMeansStepCheck(Func<Tensor, Tensor, (Tensor assignment, Tensor centers)> KMeansStep) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        // Random blobs and centres near random points (no empty cluster here).
        (Tensor X, Tensor centers, Tensor labels, Tensor moved, string what) Case(bool emptyCluster)
        {
            int n = grade.Random.Next(20, 200), d = grade.Random.Next(1, 5), k = grade.Random.Next(2, 7);
            var X = torch.randn(n, d, dtype: float64) * 2 + (torch.randn(k, d, dtype: float64) * 5).index_select(0, torch.randint(0, k, new long[] { n }, dtype: int64));
            var centers = X.index_select(0, torch.randperm(n)[..k]) + 0.1 * torch.randn(k, d, dtype: float64);
            if (emptyCluster) centers[k - 1].fill_(1000.0);                                              // far from every point
            var reference = new KMeans(k).Initialize(X, centers);
            reference.Step(X);
            return (X, centers, reference.Labels!.clone(), reference.Centers.clone(),
                    $"KMeansStep(X of shape [{n}, {d}], {k} centres{(emptyCluster ? ", the last far from every point" : "")})");
        }

        grade.Part("assignment to the nearest centre", 1, () =>
        {
            for (int trial = 0; trial < 3; trial++)
            {
                var (X, centers, labels, _, what) = Case(false);
                var (assignment, _) = KMeansStep(X.clone(), centers.clone());
                Expect.Shape(assignment, labels.shape, $"{what}: the assignment");
                if (Mistake(X, centers, assignment, null) is { } mistake) Expect.Fail($"{what}: {mistake}");
                Expect.That(assignment.to(int64).cpu().eq(labels).all().item<bool>(),
                    $"{what}: {assignment.to(int64).cpu().ne(labels).sum().item<long>()} of {labels.shape[0]} points are assigned to the wrong centre. "
                    + "Each point goes to the centre with the smallest Euclidean distance (e.g. torch.cdist(X, centers).argmin(1)).");
            }
        });

        grade.Part("centres move to the means of their points", 1.5, () =>
        {
            for (int trial = 0; trial < 3; trial++)
            {
                var (X, centers, _, moved, what) = Case(false);
                var (_, updated) = KMeansStep(X.clone(), centers.clone());
                if (Mistake(X, centers, null, updated) is { } mistake) Expect.Fail($"{what}: {mistake}");
                Expect.Close(updated, moved, $"{what}: new centre", atol: 1e-8, rtol: 1e-8,
                    hint: "Each new centre is the mean of the points assigned to it in this step (not of the previous assignment).");
            }
        });

        grade.Part("a centre without points stays where it is; the inputs are not modified", 0.5, () =>
        {
            var (X, centers, _, moved, what) = Case(true);
            var (XCopy, centersCopy) = (X.clone(), centers.clone());
            var (_, updated) = KMeansStep(X, centers);
            if (Mistake(XCopy, centersCopy, null, updated) is { } mistake) Expect.Fail($"{what}: {mistake}");
            Expect.Close(updated, moved, $"{what}: new centre", atol: 1e-8, rtol: 1e-8,
                hint: "A centre that gets no point must keep its position (dividing by a count of 0 gives NaN).");
            Expect.That(X.eq(XCopy).all().item<bool>() && centers.eq(centersCopy).all().item<bool>(), $"{what} changed its inputs X or centers; return new tensors instead.");
        });
    }

    /// <summary>Means of the points of each centre; a centre without points keeps its place (or, for the mistake, goes to 0).</summary>
    private static Tensor Means(Tensor X, Tensor centers, Tensor assignment, bool keepEmpty)
    {
        var oneHot = torch.nn.functional.one_hot(assignment, centers.shape[0]).to(float64);   // (n, k)
        var counts = oneHot.sum(dim: 0).unsqueeze(1);                                          // (k, 1)
        var means = oneHot.T.matmul(X) / counts.clamp_min(1);
        return keepEmpty ? torch.where(counts > 0, means, centers) : means;
    }

    /// <summary>
    /// The typical wrong steps (each a mutation of the solution), run on the same inputs: the message of the one the student's
    /// assignment (or new centres) matches while the right step's does not, or null.
    /// </summary>
    private static string? Mistake(Tensor X, Tensor centers, Tensor? assignment, Tensor? updated)
    {
        using var scope = torch.NewDisposeScope();
        var right = torch.cdist(X, centers).argmin(1);
        var mistakes = new (string Message, Tensor Assignment, bool KeepEmpty)[]
        {
            ("each point went to the nearest centre in Manhattan (L1) distance, Σ|x − c|: k-means assigns by the Euclidean distance "
             + "(torch.cdist(X, centers), p = 2).", torch.cdist(X, centers, p: 1).argmin(1), true),
            ("each point went to its FARTHEST centre (argmax of the distances): take the nearest, argmin.", torch.cdist(X, centers).argmax(1), true),
            ("a centre without points moved to the origin (its mean over no points counted as 0): a centre that gets no point keeps its position.",
             right, false),
        };
        if (assignment is not null)
        {
            var a = assignment.to(int64).cpu();
            if (!a.shape.SequenceEqual(right.shape) || a.eq(right).all().item<bool>()) return null;
            foreach (var (message, wrong, _) in mistakes)
                if (a.eq(wrong).all().item<bool>()) return message;
            return null;
        }
        if (updated is null || !updated.shape.SequenceEqual(centers.shape)) return null;
        var u = updated.to(float64).cpu();
        if (torch.allclose(u, Means(X, centers, right, true), rtol: 1e-8, atol: 1e-8)) return null;
        if (u.isnan().any().item<bool>() && !Means(X, centers, right, true).isnan().any().item<bool>())
            return "a new centre is NaN: a centre without points divides 0 by a count of 0; keep such a centre where it is (e.g. torch.where(counts > 0, means, centers)).";
        foreach (var (message, wrong, keepEmpty) in mistakes)
            if (torch.allclose(u, Means(X, centers, wrong, keepEmpty), rtol: 1e-8, atol: 1e-8)) return "wrong centres: " + message;
        return null;
    }
}

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
                Expect.Close(updated, moved, $"{what}: new centre", atol: 1e-8, rtol: 1e-8,
                    hint: "Each new centre is the mean of the points assigned to it in this step (not of the previous assignment).");
            }
        });

        grade.Part("a centre without points stays where it is; the inputs are not modified", 0.5, () =>
        {
            var (X, centers, _, moved, what) = Case(true);
            var (XCopy, centersCopy) = (X.clone(), centers.clone());
            var (_, updated) = KMeansStep(X, centers);
            Expect.Close(updated, moved, $"{what}: new centre", atol: 1e-8, rtol: 1e-8,
                hint: "A centre that gets no point must keep its position (dividing by a count of 0 gives NaN).");
            Expect.That(X.eq(XCopy).all().item<bool>() && centers.eq(centersCopy).all().item<bool>(), $"{what} changed its inputs X or centers; return new tensors instead.");
        });
    }
}

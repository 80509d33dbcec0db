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
                var actual = KnnPredict(XTrain.clone(), yTrain.clone(), XQuery.clone(), k);
                string what = $"KnnPredict({n} training points, {classes} classes, {m} queries, d = {d}, k = {k})";
                Expect.Shape(actual, [m], what);
                long wrong = actual.to(int64).cpu().ne(expected).sum().item<long>();
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
}

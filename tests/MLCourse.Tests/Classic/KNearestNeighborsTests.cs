using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class KNearestNeighborsTests
{
    // Five points on a line: x = 0, 1 (class 0), 2, 10, 11 (class 1).
    private static (torch.Tensor X, torch.Tensor y) Line() =>
        (torch.tensor(new double[] { 0, 1, 2, 10, 11 }).reshape(5, 1), torch.tensor(new long[] { 0, 0, 1, 1, 1 }));

    private static long PredictOne(KNearestNeighbors knn, double x) =>
        knn.Predict(torch.tensor(new[] { x }).reshape(1, 1)).item<long>();

    [Fact]
    public void Distances_are_euclidean()
    {
        var knn = new KNearestNeighbors(1).Fit(torch.tensor(new double[] { 0, 0, 1, 1 }).reshape(2, 2), torch.tensor(new long[] { 0, 1 }));
        using var d = knn.Distances(torch.tensor(new double[] { 3, 4 }).reshape(1, 2));
        Assert.Equal(5.0, d[0, 0].item<double>(), 1e-9);                      // √(3² + 4²)
        Assert.Equal(Math.Sqrt(4 + 9), d[0, 1].item<double>(), 1e-9);          // √(2² + 3²)
    }

    [Fact]
    public void Votes_match_the_hand_computation()
    {
        var (X, y) = Line();
        // query 1.4: distances 1.4, 0.4, 0.6, 8.6, 9.6 → nearest three are x=1 (0), x=2 (1), x=0 (0) → class 0
        Assert.Equal(0, PredictOne(new KNearestNeighbors(3).Fit(X, y), 1.4));
        // query 1.6: nearest is x=2 (class 1); the three nearest are x=2 (1), x=1 (0), x=0 (0) → class 0
        Assert.Equal(1, PredictOne(new KNearestNeighbors(1).Fit(X, y), 1.6));
        Assert.Equal(0, PredictOne(new KNearestNeighbors(3).Fit(X, y), 1.6));
        // k = 5 sees everything: 3 of 5 are class 1
        Assert.Equal(1, PredictOne(new KNearestNeighbors(5).Fit(X, y), 0.0));
    }

    [Fact]
    public void A_tied_vote_goes_to_the_class_of_the_nearest_neighbour_not_the_smaller_label()
    {
        var (X, y) = Line();
        var knn = new KNearestNeighbors(2).Fit(X, y);
        Assert.Equal(1, PredictOne(knn, 1.6)); // x=2 (class 1, 0.4) and x=1 (class 0, 0.6): 1–1, nearest is class 1
        Assert.Equal(0, PredictOne(knn, 1.4)); // x=1 (class 0, 0.4) and x=2 (class 1, 0.6): nearest is class 0
    }

    [Fact]
    public void Neighbours_are_listed_nearest_first()
    {
        var (X, y) = Line();
        var knn = new KNearestNeighbors(3).Fit(X, y);
        using var n = knn.Neighbors(torch.tensor(new double[] { 1.4 }).reshape(1, 1));
        Assert.Equal(new long[] { 1, 2, 0 }, n.data<long>().ToArray());
    }

    [Fact]
    public void High_accuracy_on_held_out_separable_blobs()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(4, 50, seed: 11);
        var (Xtest, ytest) = Synthetic.Blobs(4, 50, seed: 12);
        var knn = new KNearestNeighbors(5).Fit(Xtrain, ytrain);
        double accuracy = Synthetic.Accuracy(knn.Predict(Xtest), ytest);
        Assert.True(accuracy >= 0.99, $"held-out accuracy {accuracy:P1}, expected ≥ 99 %");
    }

    [Fact]
    public void The_model_keeps_its_own_copy_of_the_training_data()
    {
        var (X, y) = Line();
        var knn = new KNearestNeighbors(1).Fit(X, y);
        X.Dispose();
        Assert.Equal(1, PredictOne(knn, 10.2));
    }
}

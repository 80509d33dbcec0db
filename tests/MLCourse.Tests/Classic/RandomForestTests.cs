using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class RandomForestTests
{
    [Fact]
    public void A_forest_is_accurate_on_held_out_blobs_and_repeats_with_the_same_seed()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(3, 60, seed: 1, spread: 1.0);
        var (Xtest, ytest) = Synthetic.Blobs(3, 30, seed: 2, spread: 1.0);
        var forest = new RandomForest(numTrees: 25, maxDepth: 6, seed: 5).Fit(Xtrain, ytrain);
        Assert.Equal(25, forest.Trees.Count);
        double accuracy = Synthetic.Accuracy(forest.Predict(Xtest), ytest);
        Assert.True(accuracy >= 0.95, $"held-out accuracy {accuracy:P1}, expected ≥ 95 %");

        var again = new RandomForest(numTrees: 25, maxDepth: 6, seed: 5).Fit(Xtrain, ytrain);
        Assert.True(forest.Predict(Xtest).eq(again.Predict(Xtest)).all().item<bool>());
    }

    [Fact]
    public void Bootstrap_samples_make_the_trees_differ()
    {
        var (X, y) = Synthetic.Blobs(2, 40, seed: 3, spread: 2.5);
        var forest = new RandomForest(numTrees: 10, seed: 1).Fit(X, y);
        var renderings = forest.Trees.Select(t => t.Render()).Distinct().Count();
        Assert.True(renderings > 1, "every tree came out identical: bootstrap or feature sampling is not applied");
    }

    [Fact]
    public void Feature_importances_point_at_the_informative_feature()
    {
        // Feature 0 decides the class, feature 1 is noise.
        var rng = MLCourse.Course.Seed(9);
        var rows = Enumerable.Range(0, 200).Select(_ => new[] { rng.NextDouble(), rng.NextDouble() }).ToArray();
        using var X = torch.tensor(rows.SelectMany(r => r).ToArray()).reshape(200, 2);
        using var y = torch.tensor(rows.Select(r => r[0] > 0.5 ? 1L : 0L).ToArray());
        var forest = new RandomForest(numTrees: 20, maxDepth: 3, seed: 2).Fit(X, y);
        Assert.True(forest.FeatureImportances[0] > 0.8, $"importance of the informative feature was {forest.FeatureImportances[0]:F3}");
    }
}

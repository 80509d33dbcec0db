using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class DecisionTreeTests
{
    private static readonly bool[] AllCategorical = [true, true, true];

    [Fact]
    public void ID3_splits_the_income_table_on_age_the_feature_with_the_largest_gain()
    {
        // IG(education) = 0.1245, IG(age) = 0.4, IG(hours) = 0.2781 (see EntropyTests).
        var (X, categories) = Categorical.Encode(IncomeTable.Rows);
        var (y, classes) = Categorical.EncodeLabels(IncomeTable.Income);
        var tree = new DecisionTree().Fit(X, y, AllCategorical);

        Assert.Equal(1, tree.RootFeature);
        using var yHat = tree.Predict(X);
        Assert.True(yHat.eq(y).all().item<bool>(), "an unlimited ID3 tree must fit its consistent training table exactly");
        string text = tree.Render(IncomeTable.FeatureNames, classes, categories);
        Assert.StartsWith("age?  [high 5, low 5]", text);
        Assert.Contains("├─ age = middle: → high  [high 3, low 0]", text);
        Assert.Equal(10, text.Split('\n').Length); // root + 3 age branches + 2 education + 2·2 hours
        Assert.Equal(3, tree.Depth);
        Assert.Equal(6, tree.LeafCount);
    }

    [Fact]
    public void Gain_ratio_splits_the_income_table_on_hours_instead()
    {
        // gain ratio: education 0.1282, age 0.2546, hours 0.2781.
        var (X, _) = Categorical.Encode(IncomeTable.Rows);
        var (y, _) = Categorical.EncodeLabels(IncomeTable.Income);
        var tree = new DecisionTree(criterion: SplitCriterion.GainRatio).Fit(X, y, AllCategorical);
        Assert.Equal(2, tree.RootFeature);
    }

    [Fact]
    public void Max_depth_zero_gives_a_single_majority_leaf_with_ties_to_the_smaller_class()
    {
        var (X, _) = Categorical.Encode(IncomeTable.Rows);
        var (y, _) = Categorical.EncodeLabels(IncomeTable.Income);
        var tree = new DecisionTree(maxDepth: 0).Fit(X, y, AllCategorical);
        Assert.Equal(0, tree.Depth);
        Assert.Equal(1, tree.LeafCount);
        Assert.Equal(-1, tree.RootFeature);
        Assert.Equal(0, tree.Predict(X).sum().item<long>()); // 5/5 tie → class 0 everywhere
    }

    [Fact]
    public void A_numeric_threshold_split_is_placed_midway_between_the_classes()
    {
        using var X = torch.tensor(new double[] { 1, 2, 3, 10, 11, 12 }).reshape(6, 1);
        using var y = torch.tensor(new long[] { 0, 0, 0, 1, 1, 1 });
        var tree = new DecisionTree().Fit(X, y);
        Assert.Equal(1, tree.Depth);
        Assert.Contains("x0 ≤ 6.5", tree.Render());
        using var query = torch.tensor(new double[] { 6.4, 6.6 }).reshape(2, 1);
        Assert.Equal(new long[] { 0, 1 }, tree.Predict(query).data<long>().ToArray());
    }

    [Fact]
    public void A_depth_two_tree_learns_xor_which_no_single_split_can()
    {
        // XOR of the signs of two uniform features: no single threshold separates the classes, but a
        // greedy tree finds the quadrants once it may split more than once (random points give the root a
        // small positive gain to start from).
        var rng = MLCourse.Course.Seed(7);
        var points = Enumerable.Range(0, 400).Select(_ => new[] { rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1 }).ToArray();
        var labels = points.Select(p => (long)(p[0] * p[1] > 0 ? 1 : 0)).ToArray();
        using var X = torch.tensor(points.SelectMany(p => p).ToArray()).reshape(400, 2);
        using var y = torch.tensor(labels);
        var deep = new DecisionTree(maxDepth: 6, criterion: SplitCriterion.Gini).Fit(X, y);
        double accuracy = deep.Predict(X).eq(y).to(torch.float64).mean().item<double>();
        Assert.True(accuracy >= 0.99, $"training accuracy on XOR was {accuracy:P1}, expected ≥ 99 %");
        var stump = new DecisionTree(maxDepth: 1).Fit(X, y);
        double stumpAccuracy = stump.Predict(X).eq(y).to(torch.float64).mean().item<double>();
        Assert.True(stumpAccuracy < 0.75, $"a single split should not solve XOR, got {stumpAccuracy:P1}");
        Assert.Equal(1.0, deep.FeatureImportances.Sum(), 1e-9);
    }

    [Fact]
    public void An_unseen_category_falls_back_to_the_majority_of_the_node()
    {
        using var X = torch.tensor(new long[] { 0, 0, 1, 1, 1 }).reshape(5, 1);
        using var y = torch.tensor(new long[] { 0, 0, 1, 1, 1 });
        var tree = new DecisionTree().Fit(X, y, [true]);
        using var query = torch.tensor(new long[] { 7 }).reshape(1, 1);
        Assert.Equal(1, tree.Predict(query).item<long>()); // root majority: 3 of 5 are class 1
    }
}

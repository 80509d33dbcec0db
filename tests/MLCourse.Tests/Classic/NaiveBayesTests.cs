using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class NaiveBayesTests
{
    // ---- categorical, on the income table (see IncomeTable for the counts) ----

    private static CategoricalNaiveBayes FitIncome(double alpha)
    {
        var (X, _) = Categorical.Encode(IncomeTable.Rows);
        var (y, _) = Categorical.EncodeLabels(IncomeTable.Income);
        return new CategoricalNaiveBayes(alpha).Fit(X, y);
    }

    [Fact]
    public void Laplace_smoothed_probabilities_match_the_hand_computation()
    {
        // (count + α) / (class count + α·V); classes: 0 = high income, 1 = low income, 5 samples each.
        var nb = FitIncome(alpha: 1);
        Assert.Equal(0.5, nb.Prior(0), 1e-12);
        Assert.Equal(5.0 / 7, nb.Probability(feature: 0, value: 0, cls: 0), 1e-12); // education=high | high: (4+1)/(5+2)
        Assert.Equal(2.0 / 7, nb.Probability(0, 1, 0), 1e-12);                       // education=low  | high: (1+1)/(5+2)
        Assert.Equal(1.0 / 8, nb.Probability(1, 1, 1), 1e-12);                       // age=middle | low: (0+1)/(5+3), never seen
        Assert.Equal(4.0 / 8, nb.Probability(1, 0, 1), 1e-12);                       // age=young  | low: (3+1)/(5+3)
        Assert.Equal(2.0 / 7, nb.Probability(2, 0, 1), 1e-12);                       // hours=long | low: (1+1)/(5+2)
    }

    [Fact]
    public void Smoothed_probabilities_of_each_feature_sum_to_one()
    {
        var nb = FitIncome(alpha: 1);
        int[] values = [2, 3, 2];
        for (int j = 0; j < 3; j++)
            for (int c = 0; c < 2; c++)
                Assert.Equal(1.0, Enumerable.Range(0, values[j]).Sum(v => nb.Probability(j, v, c)), 1e-12);
    }

    [Fact]
    public void Posterior_of_a_query_matches_the_hand_computation()
    {
        // x = (education low, age middle, hours long):
        //   high: 0.5 · 2/7 · 4/8 · 5/7 = 0.5 · 10/98      low: 0.5 · 4/7 · 1/8 · 2/7 = 0.5 · 2/98
        //   P(high | x) = 10 / 12 = 5/6.  Without smoothing P(age=middle | low) = 0, so P(high | x) = 1.
        using var x = torch.tensor(new long[] { 1, 1, 0 }).reshape(1, 3);
        Assert.Equal(5.0 / 6, FitIncome(alpha: 1).PredictProba(x)[0, 0].item<double>(), 1e-12);
        Assert.Equal(1.0, FitIncome(alpha: 0).PredictProba(x)[0, 0].item<double>(), 1e-12);
        Assert.Equal(0, FitIncome(alpha: 1).Predict(x).item<long>());
    }

    // ---- Gaussian ----

    [Fact]
    public void Gaussian_parameters_and_posterior_match_the_hand_computation()
    {
        // class 0: x = 0, 2 → μ = 1, σ² = 1;  class 1: x = 4, 6, 8 → μ = 6, σ² = 8/3 (divide by n);  priors 0.4, 0.6.
        // At x = 3: log(0.4) + log N(3; 1, 1) = −3.835229, log(0.6) + log N(3; 6, 8/3) = −3.607679 → P(0 | 3) = 0.443357.
        using var X = torch.tensor(new double[] { 0, 2, 4, 6, 8 }).reshape(5, 1);
        using var y = torch.tensor(new long[] { 0, 0, 1, 1, 1 });
        var nb = new GaussianNaiveBayes().Fit(X, y);
        Assert.Equal(new[] { 0.4, 0.6 }, nb.Priors.data<double>().ToArray().Select(v => Math.Round(v, 12)));
        Assert.Equal(new[] { 1.0, 6.0 }, nb.Means.data<double>().ToArray().Select(v => Math.Round(v, 9)));
        Assert.Equal(new[] { 1.0, 8.0 / 3 }.Select(v => Math.Round(v, 6)), nb.Variances.data<double>().ToArray().Select(v => Math.Round(v, 6)));
        using var query = torch.tensor(new double[] { 3 }).reshape(1, 1);
        Assert.Equal(0.443357, nb.PredictProba(query)[0, 0].item<double>(), 1e-6);
        Assert.Equal(1, nb.Predict(query).item<long>());
    }

    [Fact]
    public void Gaussian_naive_Bayes_is_accurate_on_held_out_blobs()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(4, 60, seed: 21);
        var (Xtest, ytest) = Synthetic.Blobs(4, 60, seed: 22);
        var nb = new GaussianNaiveBayes().Fit(Xtrain, ytrain);
        double accuracy = Synthetic.Accuracy(nb.Predict(Xtest), ytest);
        Assert.True(accuracy >= 0.99, $"held-out accuracy {accuracy:P1}, expected ≥ 99 %");
        using var proba = nb.PredictProba(Xtest);
        Assert.True(proba.sum(1).allclose(torch.ones(proba.shape[0], dtype: torch.float64)), "posteriors must sum to 1 per row");
    }
}

using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class GaussianGenerativeClassifierTests
{
    // 1-D: class 0 at 0, 2 (μ0 = 1, σ0² = 1); class 1 at 4, 6, 8 (μ1 = 6, σ1² = 8/3); priors 0.4 and 0.6.
    private static (torch.Tensor X, torch.Tensor y) Small() =>
        (torch.tensor(new double[] { 0, 2, 4, 6, 8 }).reshape(5, 1), torch.tensor(new long[] { 0, 0, 1, 1, 1 }));

    [Fact]
    public void Shared_covariance_is_the_prior_weighted_average_and_gives_the_hand_computed_linear_form()
    {
        // Σ = 0.4·1 + 0.6·8/3 = 2;  w = (6 − 1)/2 = 2.5;  b = −36/4 + 1/4 + ln(0.6/0.4) = −8.344535;
        // P(1 | x = 3) = σ(7.5 − 8.344535) = 0.300581.
        var (X, y) = Small();
        var model = new GaussianGenerativeClassifier(sharedCovariance: true).Fit(X, y);
        Assert.Equal(2.0, model.Covariances[0, 0, 0].item<double>(), 1e-6);
        Assert.Equal(2.0, model.Covariances[1, 0, 0].item<double>(), 1e-6);
        var (w, b) = model.LinearForm();
        Assert.Equal(2.5, w.item<double>(), 1e-6);
        Assert.Equal(-8.344535, b, 1e-6);
        using var query = torch.tensor(new double[] { 3 }).reshape(1, 1);
        Assert.Equal(0.300581, model.PredictProba(query)[0, 1].item<double>(), 1e-6);
    }

    [Fact]
    public void Per_class_covariances_reproduce_the_one_dimensional_Bayes_posterior()
    {
        // Same numbers as the Gaussian naive Bayes test: P(0 | x = 3) = 0.443357.
        var (X, y) = Small();
        var model = new GaussianGenerativeClassifier(sharedCovariance: false).Fit(X, y);
        Assert.Equal(8.0 / 3, model.Covariances[1, 0, 0].item<double>(), 1e-6);
        using var query = torch.tensor(new double[] { 3 }).reshape(1, 1);
        Assert.Equal(0.443357, model.PredictProba(query)[0, 0].item<double>(), 1e-6);
        Assert.Throws<InvalidOperationException>(() => model.LinearForm());
    }

    [Fact]
    public void With_a_shared_covariance_the_posterior_is_a_sigmoid_of_a_linear_function()
    {
        var (X, y) = Synthetic.Blobs(2, 50, seed: 61, spread: 3);
        var model = new GaussianGenerativeClassifier().Fit(X, y);
        var (w, b) = model.LinearForm();
        using var direct = torch.sigmoid(X.matmul(w) + b);
        using var proba = model.PredictProba(X);
        Assert.True(proba[.., 1].allclose(direct, atol: 1e-9), "P(C1|x) differs from σ(w·x + b)");
    }

    [Fact]
    public void Accurate_on_held_out_blobs_with_either_covariance()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(4, 60, seed: 62);
        var (Xtest, ytest) = Synthetic.Blobs(4, 60, seed: 63);
        foreach (bool shared in new[] { true, false })
        {
            var model = new GaussianGenerativeClassifier(shared).Fit(Xtrain, ytrain);
            double accuracy = Synthetic.Accuracy(model.Predict(Xtest), ytest);
            Assert.True(accuracy >= 0.99, $"shared={shared}: held-out accuracy {accuracy:P1}, expected ≥ 99 %");
        }
    }
}

using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class LogisticRegressionTests
{
    [Fact]
    public void One_gradient_step_matches_the_hand_computation()
    {
        // X = (1, 0), (0, 1), (−1, 0); r = 1, 1, 0. From w = 0, b = 0 every y = σ(0) = 0.5 and the loss is ln 2.
        // y − r = (−0.5, −0.5, 0.5): ∂L/∂w = Xᵀ(y − r)/3 = (−1/3, −1/6), ∂L/∂b = −1/6.
        // With η = 0.3: w = (0.1, 0.05), b = 0.05.
        using var X = torch.tensor(new double[] { 1, 0, 0, 1, -1, 0 }).reshape(3, 2);
        using var y = torch.tensor(new long[] { 1, 1, 0 });
        var model = new LogisticRegression(lr: 0.3, numEpochs: 1).Fit(X, y);
        Assert.True(model.IsBinary);
        var w = model.Weights.data<double>().ToArray();
        Assert.Equal(0.1, w[0], 1e-12);
        Assert.Equal(0.05, w[1], 1e-12);
        Assert.Equal(0.05, model.Bias.item<double>(), 1e-12);
        Assert.Equal(Math.Log(2), model.Losses[0], 1e-12);
    }

    [Fact]
    public void The_hand_written_gradient_agrees_with_autograd()
    {
        var (X, y) = Synthetic.Blobs(3, 10, seed: 51, spread: 3);
        var one = new LogisticRegression(lr: 1.0, numEpochs: 1).Fit(X, y);   // W1 = −∇L(0)
        var W = torch.zeros(2, 3, dtype: torch.float64, requires_grad: true);
        var b = torch.zeros(3, dtype: torch.float64, requires_grad: true);
        var loss = torch.nn.functional.cross_entropy(X.matmul(W) + b, y);
        loss.backward();
        Assert.True(one.Weights.allclose(-W.grad!, atol: 1e-12), "softmax weight gradient differs from autograd");
        Assert.True(one.Bias.allclose(-b.grad!, atol: 1e-12), "softmax bias gradient differs from autograd");
    }

    [Fact]
    public void Binary_model_is_accurate_on_separable_blobs_and_the_loss_falls()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(2, 80, seed: 52, spread: 1.5);
        var (Xtest, ytest) = Synthetic.Blobs(2, 80, seed: 53, spread: 1.5);
        var model = new LogisticRegression(lr: 0.1, numEpochs: 300).Fit(Xtrain, ytrain);
        Assert.True(model.Losses[^1] < 0.1 * model.Losses[0], $"loss went from {model.Losses[0]:F3} to {model.Losses[^1]:F3}");
        double accuracy = Synthetic.Accuracy(model.Predict(Xtest), ytest);
        Assert.True(accuracy >= 0.99, $"held-out accuracy {accuracy:P1}, expected ≥ 99 %");
    }

    [Fact]
    public void Softmax_model_is_accurate_on_four_blobs_and_probabilities_sum_to_one()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(4, 60, seed: 54);
        var (Xtest, ytest) = Synthetic.Blobs(4, 60, seed: 55);
        var model = new LogisticRegression(lr: 0.1, numEpochs: 500).Fit(Xtrain, ytrain);
        Assert.False(model.IsBinary);
        Assert.Equal(new long[] { 2, 4 }, model.Weights.shape);
        double accuracy = Synthetic.Accuracy(model.Predict(Xtest), ytest);
        Assert.True(accuracy >= 0.99, $"held-out accuracy {accuracy:P1}, expected ≥ 99 %");
        using var proba = model.PredictProba(Xtest);
        Assert.True(proba.sum(1).allclose(torch.ones(proba.shape[0], dtype: torch.float64)));
    }
}

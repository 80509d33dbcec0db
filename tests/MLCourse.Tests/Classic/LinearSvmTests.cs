using MLCourse.Classic;
using TorchSharp;

namespace MLCourse.Tests.Classic;

public class LinearSvmTests
{
    // Six points symmetric about the line x1 = 0: negatives (−1, 0), (−2, ±1); positives (1, 0), (2, ±1).
    // The widest separating band is |x1| < 1: w = (1, 0), b = 0, margin 2/‖w‖ = 2, support vectors (±1, 0).
    // For the soft-margin objective (1/6) Σ hinge + (λ/2)‖w‖² with w = (a, 0), a ≤ 1: the two support vectors
    // contribute (1 − a)/3 and the penalty λa²/2, whose derivative at a = 1 is −1/3 + λ < 0 for λ < 1/3,
    // so the hard-margin solution is also the soft-margin optimum for λ = 0.01.
    private static readonly double[] Points = [-1, 0, -2, 1, -2, -1, 1, 0, 2, 1, 2, -1];
    private static readonly long[] Signs = [-1, -1, -1, 1, 1, 1];

    [Fact]
    public void Finds_the_maximum_margin_line_of_the_hand_example()
    {
        using var X = torch.tensor(Points).reshape(6, 2);
        using var y = torch.tensor(Signs);
        var svm = new LinearSvm(lambda: 0.01, lr: 0.1, numEpochs: 3000).Fit(X, y);
        var w = svm.Weights.data<double>().ToArray();
        Assert.Equal(1.0, w[0], 0.02);
        Assert.Equal(0.0, w[1], 0.02);
        Assert.Equal(0.0, svm.Bias, 0.02);
        Assert.Equal(2.0, svm.MarginWidth, 0.04);
        Assert.Equal(new long[] { 0, 3 }, svm.SupportVectorIndices);
        Assert.True(svm.Predict(X).eq(y).all().item<bool>());
    }

    [Fact]
    public void The_objective_decreases_and_the_decision_function_is_linear()
    {
        using var X = torch.tensor(Points).reshape(6, 2);
        using var y = torch.tensor(Signs);
        var svm = new LinearSvm(numEpochs: 500).Fit(X, y);
        Assert.True(svm.Losses[^1] < svm.Losses[0], "the objective did not decrease");
        using var f = svm.Decision(torch.tensor(new double[] { 3, 5 }).reshape(1, 2));
        var w = svm.Weights.data<double>().ToArray();
        Assert.Equal(3 * w[0] + 5 * w[1] + svm.Bias, f.item<double>(), 1e-12);
    }

    [Fact]
    public void Zero_one_labels_are_accepted_and_returned_as_zero_one()
    {
        var (Xtrain, ytrain) = Synthetic.Blobs(2, 80, seed: 41, spread: 1.5);
        var (Xtest, ytest) = Synthetic.Blobs(2, 80, seed: 42, spread: 1.5);
        var svm = new LinearSvm().Fit(Xtrain, ytrain);
        using var yHat = svm.Predict(Xtest);
        Assert.Equal(new long[] { 0, 1 }, yHat.unique().Item1.data<long>().ToArray());
        double accuracy = Synthetic.Accuracy(yHat, ytest);
        Assert.True(accuracy >= 0.99, $"held-out accuracy {accuracy:P1}, expected ≥ 99 %");
        Assert.NotEmpty(svm.SupportVectorIndices);
    }

    [Fact]
    public void Labels_other_than_two_signs_are_rejected()
    {
        using var X = torch.zeros(3, 2);
        using var y = torch.tensor(new long[] { 0, 1, 2 });
        Assert.Throws<ArgumentException>(() => new LinearSvm().Fit(X, y));
    }
}

// Checks of hw-mnist-mlp.q4, the trained `net` (4 points). The grader loads MNIST itself (the notebook's tensors
// could have been changed) and measures the accuracy of the student's `net` on all 10,000 test images, and on
// the training images it should have learnt from as a control: a net trained on the test set is better on the test
// images than on those, which an honest net never is.
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-mnist-mlp.q4", Points = 4)]
sealed class TrainedNetCheck(nn.Module<Tensor, Tensor>? net) : QuestionCheck
{
    /// <summary>Full mode: 12 epochs on 60,000 images. Quick mode: 3 epochs on 6,000 images.</summary>
    public static (double Full, double Half) Bars(bool quick) => quick ? (0.90, 0.85) : (0.980, 0.975);

    /// <summary>
    /// Test accuracy this far above the control's means the test images were learnt: an honest net scores lower on the
    /// test images than on its training images; one trained on the test set (quick mode) 95.6 % against 92 %.
    /// </summary>
    public const double LeakMargin = 0.015;

    public override void Run(Grade grade)
    {
        grade.Part("test accuracy", 4, () =>
        {
            Expect.That(net is not null, "`net` is null: the training cell did not create the model.");
            var (full, half) = Bars(grade.Quick);
            using var mnist = Mnist.Load();
            var model = net!;
            model.eval();
            long correct = Correct(model, mnist.Test.X, mnist.Test.y, 0, mnist.Test.Count, "test images");
            double accuracy = correct / (double)mnist.Test.Count;
            // The control: training images the notebook trains on (the first 6,000 in quick mode, all 60,000 in full mode;
            // the first 10,000 of them are measured). An honest net fits them at least as well as the test images.
            long controlCount = Math.Min(grade.Quick ? 6_000 : 10_000, mnist.Train.Count);
            double control = Correct(model, mnist.Train.X, mnist.Train.y, 0, controlCount, "training images") / (double)controlCount;
            string controlName = "training images it should have learnt from";
            string bars = $"required ≥ {half:P1} for half and ≥ {full:P1} for full points{(grade.Quick ? " (quick mode)" : "")}";
            string reached = $"test accuracy {accuracy:P2} ({correct} of {mnist.Test.Count} test images, measured by the grader)";
            if (accuracy > control + LeakMargin)
                return (Math.Min(0.5, accuracy >= half ? 0.5 : 0.0),
                        $"{reached}, but only {control:P2} on the {controlCount} {controlName}: the net knows the test images better than "
                        + "the images it should have learnt from, so it was trained on XTest/yTest. At most half the points: train on "
                        + "XTrain and yTrain only; the test set is for the final measurement.");
            reached += $"; {control:P2} on the {controlCount} {controlName}";
            if (accuracy >= full) return (1.0, $"{reached}; {bars}.");
            if (accuracy >= half) return (0.5, $"{reached}: below the full bar; {bars}. Tune epochs and learning rate on a validation split of the training images, not on this test accuracy.");
            return (0.0, $"{reached}: below both bars; {bars}. Check TrainEpoch, then tune epochs and learning rate on a validation split of the training images.");
        });
    }

    private static long Correct(nn.Module<Tensor, Tensor> model, Tensor X, Tensor y, long from, long count, string what)
    {
        long correct = 0;
        using var noGrad = torch.no_grad();
        for (long start = from; start < from + count; start += 1000)
        {
            using var scope = torch.NewDisposeScope();
            long length = Math.Min(1000, from + count - start);
            var logits = model.call(X.narrow(0, start, length));
            Expect.Shape(logits, [length, 10], $"net's output for {length} {what} of shape [{length}, 1, 28, 28]");
            correct += logits.argmax(1).eq(y.narrow(0, start, length)).sum().item<long>();
        }
        return correct;
    }
}

// Checks of hw-mnist-mlp.q4, the trained `net` (4 points). The grader loads the test set itself (the notebook's
// tensors could have been changed) and measures the accuracy of the student's `net` on all 10,000 images.
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-mnist-mlp.q4", Points = 4)]
sealed class TrainedNetCheck(nn.Module<Tensor, Tensor>? net) : QuestionCheck
{
    /// <summary>Full mode: 12 epochs on 60,000 images. Quick mode: 3 epochs on 6,000 images.</summary>
    public static (double Full, double Half) Bars(bool quick) => quick ? (0.90, 0.85) : (0.980, 0.975);

    public override void Run(Grade grade)
    {
        grade.Part("test accuracy", 4, () =>
        {
            Expect.That(net is not null, "`net` is null: the training cell did not create the model.");
            var (full, half) = Bars(grade.Quick);
            using var mnist = Mnist.Load();
            var model = net!;
            model.eval();
            long correct = 0;
            using (torch.no_grad())
            {
                for (long start = 0; start < mnist.Test.Count; start += 1000)
                {
                    using var scope = torch.NewDisposeScope();
                    long length = Math.Min(1000, mnist.Test.Count - start);
                    var logits = model.call(mnist.Test.X.narrow(0, start, length));
                    Expect.Shape(logits, [length, 10], "net's output for a batch of test images");
                    correct += logits.argmax(1).eq(mnist.Test.y.narrow(0, start, length)).sum().item<long>();
                }
            }
            double accuracy = correct / (double)mnist.Test.Count;
            string bars = $"required ≥ {half:P1} for half and ≥ {full:P1} for full points{(grade.Quick ? " (quick mode)" : "")}";
            string reached = $"test accuracy {accuracy:P2} ({correct} of {mnist.Test.Count} test images, measured by the grader)";
            if (accuracy >= full) return (1.0, $"{reached}; {bars}.");
            if (accuracy >= half) return (0.5, $"{reached}: below the full bar; {bars}. Tune epochs and learning rate on a validation split of the training images, not on this test accuracy.");
            return (0.0, $"{reached}: below both bars; {bars}. Check TrainEpoch, then tune epochs and learning rate on a validation split of the training images.");
        });
    }
}

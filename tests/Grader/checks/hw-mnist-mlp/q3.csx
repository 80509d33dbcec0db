// Checks of hw-mnist-mlp.q3, TrainEpoch(net, optimizer, loader) (3 points): the student's epoch and a reference
// epoch start from the same weights (a seeded small linear model) and the same fresh random data. The typical wrong
// epochs (no zero_grad, step before backward, a summed loss) are run too: weights that match one name the mistake,
// and the returned loss is judged against the batch losses of the epoch the student's code actually ran, so a
// training-step mistake does not also cost the loss-averaging part.
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-mnist-mlp.q3", Points = 3)]
sealed class TrainEpochCheck(Func<nn.Module<Tensor, Tensor>, optim.Optimizer, TensorLoader, double> TrainEpoch) : QuestionCheck
{
    private enum Step { Right, NoZeroGrad, StepBeforeBackward, SummedLoss }

    public override void Run(Grade grade)
    {
        int features = grade.Random.Next(8, 24), classes = grade.Random.Next(3, 7);
        // the last batch is smaller, so a plain average of the batch losses differs from the mean per sample
        int batch = grade.Random.Next(8, 24), batches = grade.Random.Next(3, 7), n = batch * batches - grade.Random.Next(2, batch / 2);
        torch.manual_seed(grade.Seed);
        var X = torch.randn(n, features);
        var y = torch.randint(0, classes, new long[] { n }, dtype: ScalarType.Int64);
        var (student, initial) = Model(features, classes, grade.Seed);
        double lr = 0.1 + grade.Random.NextDouble() * 0.2;
        string call = $"TrainEpoch on a linear model ({features} → {classes}), SGD lr {lr:0.###}, {n} samples in batches of {batch} (the last one smaller)";

        double studentLoss = double.NaN;
        grade.Part("the parameters are updated", 1, () =>
        {
            studentLoss = TrainEpoch(student, new MLCourse.Training.SGD(student.parameters(), lr), new TensorLoader(X, y, batch));
            var changed = student.parameters().First().detach();
            Expect.That(!torch.allclose(changed, initial),
                $"{call}: the weights did not change. Call loss.backward() and then optimizer.step() for every batch "
                + "(optimizer.zero_grad() between them would clear the gradients before the step uses them).");
        });

        // The reference epoch and the typical wrong ones, from the same initial weights.
        var epochs = Enum.GetValues<Step>().ToDictionary(step => step, step =>
        {
            var (net, _) = Model(features, classes, grade.Seed);
            return (Net: net, Losses: ReferenceEpoch(net, new MLCourse.Training.SGD(net.parameters(), lr), X, y, batch, step));
        });
        Step? ran = null;
        grade.Part("the parameters match one epoch of SGD", 1, () =>
        {
            Expect.That(!double.IsNaN(studentLoss), "TrainEpoch did not run (see the first part).");
            ran = epochs.Keys.Cast<Step?>().FirstOrDefault(step => Same(student, epochs[step!.Value].Net));
            switch (ran)
            {
                case Step.Right: return;
                case Step.NoZeroGrad:
                    Expect.Fail($"{call}: your weights are those of an epoch without optimizer.zero_grad(): the gradients of all "
                                + "earlier batches add up in .grad. Call optimizer.zero_grad() before loss.backward() for every batch.");
                    break;
                case Step.StepBeforeBackward:
                    Expect.Fail($"{call}: your weights are those of an epoch that calls optimizer.step() before loss.backward(): each "
                                + "step uses the previous batch's gradient. The order is zero_grad, backward, step.");
                    break;
                case Step.SummedLoss:
                    Expect.Fail($"{call}: your weights are those of an epoch whose loss is the SUM over the batch, not the mean, so "
                                + "every step is batch-size times too large. Use cross_entropy's default reduction (mean).");
                    break;
            }
            foreach (var (mine, theirs) in student.parameters().Zip(epochs[Step.Right].Net.parameters()))
                Expect.Close(mine, theirs, $"{call}: weights after the epoch", atol: 1e-5, rtol: 1e-4,
                    hint: "Each batch needs: forward, cross-entropy of the logits and the labels, optimizer.zero_grad(), "
                          + "loss.backward(), optimizer.step(), in this order, over every batch once.");
        });

        grade.Part("the returned mean loss", 1, () =>
        {
            Expect.That(!double.IsNaN(studentLoss), "TrainEpoch did not run (see the first part).");
            // The batch losses of the epoch the student's code ran (the reference's when it matches none): the averaging is
            // judged on its own.
            var losses = epochs[ran ?? Step.Right].Losses;
            double expected = losses.Sum(l => l.Loss * l.Size) / n;
            if (Math.Abs(studentLoss - expected) <= 1e-4) return;
            // A summed loss is charged to the part above; averaged per sample it is right here too.
            if (ran == Step.SummedLoss && Math.Abs(studentLoss - losses.Sum(l => l.Loss) / n) <= 1e-4) return;
            string? mistake =
                Near(losses.Average(l => l.Loss)) ? "the plain average of the batch losses: the last batch is smaller, so weigh each batch's mean loss by its size"
                : Near(losses.Sum(l => l.Loss)) ? "the sum of the batch losses: divide the size-weighted sum by the number of samples"
                : Near(losses.Sum(l => l.Loss * l.Size)) ? "the size-weighted sum of the batch losses, not divided by the number of samples"
                : Near(losses[^1].Loss) ? "the last batch's loss only: accumulate over every batch"
                : Near(losses.Sum(l => l.Loss * l.Size) / losses.Count) ? "divided by the number of batches: divide by the number of samples"
                : null;
            Expect.Close(studentLoss, expected, $"{call}: the returned loss", 1e-4,
                hint: mistake is not null
                    ? $"You return {mistake}."
                    : "Return the mean cross-entropy per sample over the epoch: sum each batch's mean loss times its size (the last batch is smaller), "
                      + "divide by the number of samples.");
            bool Near(double value) => Math.Abs(studentLoss - value) <= 1e-4;
        });
    }

    private static bool Same(nn.Module<Tensor, Tensor> a, nn.Module<Tensor, Tensor> b) =>
        a.parameters().Zip(b.parameters()).All(p => p.First.shape.SequenceEqual(p.Second.shape)
                                                     && torch.allclose(p.First.detach(), p.Second.detach(), rtol: 1e-4, atol: 1e-5));

    private static (nn.Module<Tensor, Tensor> Net, Tensor Initial) Model(int features, int classes, int seed)
    {
        torch.manual_seed(seed + 1);
        var net = nn.Sequential(nn.Linear(features, classes));
        return (net, net.parameters().First().detach().clone());
    }

    /// <summary>One epoch as <paramref name="step"/> says; each batch's loss as the epoch computed it (a sum for SummedLoss) and its size.</summary>
    private static List<(double Loss, long Size)> ReferenceEpoch(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, Tensor X, Tensor y, int batch, Step step)
    {
        var losses = new List<(double, long)>();
        foreach (var (Xb, yb) in new TensorLoader(X, y, batch))
        {
            using var scope = torch.NewDisposeScope();
            var loss = nn.functional.cross_entropy(net.call(Xb), yb, reduction: step == Step.SummedLoss ? nn.Reduction.Sum : nn.Reduction.Mean);
            if (step == Step.StepBeforeBackward)
            {
                optimizer.step();          // with the previous batch's gradient
                optimizer.zero_grad();
                loss.backward();
            }
            else
            {
                if (step != Step.NoZeroGrad) optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            losses.Add((loss.item<float>(), Xb.shape[0]));
        }
        return losses;
    }
}

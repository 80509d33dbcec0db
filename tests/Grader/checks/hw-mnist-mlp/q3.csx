// Checks of hw-mnist-mlp.q3, TrainEpoch(net, optimizer, loader) (3 points): the student's epoch and a reference
// epoch start from the same weights (a seeded small linear model) and the same fresh random data.
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-mnist-mlp.q3", Points = 3)]
sealed class TrainEpochCheck(Func<nn.Module<Tensor, Tensor>, optim.Optimizer, TensorLoader, double> TrainEpoch) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        int features = grade.Random.Next(8, 24), classes = grade.Random.Next(3, 7);
        // the last batch is smaller, so a plain average of the batch losses differs from the mean per sample
        int batch = grade.Random.Next(8, 24), batches = grade.Random.Next(3, 7), n = batch * batches - grade.Random.Next(2, batch / 2);
        torch.manual_seed(grade.Seed);
        var X = torch.randn(n, features);
        var y = torch.randint(0, classes, new long[] { n }, dtype: ScalarType.Int64);
        var (student, initial) = Model(features, classes, grade.Seed);
        var (reference, _) = Model(features, classes, grade.Seed);
        double lr = 0.1 + grade.Random.NextDouble() * 0.2;
        string call = $"TrainEpoch on a linear model ({features} → {classes}), SGD lr {lr:0.###}, {n} samples in batches of {batch} (the last one smaller)";

        double studentLoss = double.NaN;
        grade.Part("the parameters are updated", 1, () =>
        {
            studentLoss = TrainEpoch(student, torch.optim.SGD(student.parameters(), lr), new TensorLoader(X, y, batch));
            var changed = student.parameters().First().detach();
            Expect.That(!torch.allclose(changed, initial),
                $"{call}: the weights did not change. Call loss.backward() and optimizer.step() for every batch.");
        });

        double referenceLoss = ReferenceEpoch(reference, torch.optim.SGD(reference.parameters(), lr), X, y, batch);
        grade.Part("the parameters match one epoch of SGD", 1, () =>
        {
            Expect.That(!double.IsNaN(studentLoss), "TrainEpoch did not run (see the first part).");
            foreach (var (mine, theirs) in student.parameters().Zip(reference.parameters()))
                Expect.Close(mine, theirs, $"{call}: weights after the epoch", atol: 1e-5, rtol: 1e-4,
                    hint: "Each batch needs: forward, cross-entropy of the logits and the labels, optimizer.zero_grad(), "
                          + "loss.backward(), optimizer.step(), in this order, over every batch once.");
        });

        grade.Part("the returned mean loss", 1, () =>
        {
            Expect.That(!double.IsNaN(studentLoss), "TrainEpoch did not run (see the first part).");
            Expect.Close(studentLoss, referenceLoss, $"{call}: the returned loss", 1e-4,
                hint: "Return the mean cross-entropy per sample over the epoch: sum each batch's mean loss times its size (the last batch is smaller), "
                      + "divide by the number of samples.");
        });
    }

    private static (nn.Module<Tensor, Tensor> Net, Tensor Initial) Model(int features, int classes, int seed)
    {
        torch.manual_seed(seed + 1);
        var net = nn.Sequential(nn.Linear(features, classes));
        return (net, net.parameters().First().detach().clone());
    }

    private static double ReferenceEpoch(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, Tensor X, Tensor y, int batch)
    {
        double sum = 0;
        foreach (var (Xb, yb) in new TensorLoader(X, y, batch))
        {
            using var scope = torch.NewDisposeScope();
            var loss = nn.functional.cross_entropy(net.call(Xb), yb);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            sum += loss.item<float>() * Xb.shape[0];
        }
        return sum / X.shape[0];
    }
}

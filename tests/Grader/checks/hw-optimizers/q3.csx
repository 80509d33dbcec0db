// Checks of hw-optimizers.q3, TrainWithAdam (3 points). Compiled by the grader as a continuation of the student's
// notebook session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: the same network (same seed, same initial weights) trained full-batch with torch.optim.Adam.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-optimizers.q3", Points = 3)]
sealed class TrainWithAdamCheck(Func<nn.Module<Tensor, Tensor>, Tensor, Tensor, int, double, List<double>> TrainWithAdam) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        int features = grade.Random.Next(4, 12), hidden = grade.Random.Next(8, 24), classes = grade.Random.Next(2, 6);
        int samples = grade.Random.Next(64, 160), steps = grade.Random.Next(20, 40), netSeed = grade.Random.Next();
        double lr = Math.Round(0.005 + 0.02 * grade.Random.NextDouble(), 4);
        torch.manual_seed(grade.Seed);
        var X = torch.randn(samples, features);
        var y = torch.randint(0, classes, [samples], dtype: ScalarType.Int64);
        nn.Module<Tensor, Tensor> Net()
        {
            torch.manual_seed(netSeed);
            return nn.Sequential(nn.Linear(features, hidden), nn.ReLU(), nn.Linear(hidden, classes));
        }
        string call = $"TrainWithAdam(a {features}-{hidden}-{classes} network, X of shape [{samples}, {features}], y, steps: {steps}, lr: {lr})";

        // reference run
        var referenceNet = Net();
        var adam = torch.optim.Adam(referenceNet.parameters(), lr);
        var expected = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            adam.zero_grad();
            var loss = nn.functional.cross_entropy(referenceNet.call(X), y);
            loss.backward();
            adam.step();
            expected.Add(loss.item<float>());
        }

        // The typical wrong loop: gradients never cleared, so every backward pass adds to the last one's.
        var accumulatingNet = Net();
        var accumulatingAdam = torch.optim.Adam(accumulatingNet.parameters(), lr);
        var accumulated = new List<double>();
        for (int t = 0; t < steps; t++)
        {
            var loss = nn.functional.cross_entropy(accumulatingNet.call(X), y);
            loss.backward();
            accumulatingAdam.step();
            accumulated.Add(loss.item<float>());
        }

        var studentNet = Net();
        List<double>? losses = null;
        grade.Part("one loss per step, the first before any update", 1, () =>
        {
            losses = TrainWithAdam(studentNet, X, y, steps, lr);
            Expect.That(losses is not null && losses.Count == steps,
                $"{call} returned {losses?.Count.ToString() ?? "null"} losses; expected {steps}, one per step.");
            Expect.Close(losses![0], expected[0], $"{call}: the first loss", 1e-4,
                "Record each step's loss before the update: the first loss is the untrained network's cross-entropy on (X, y).");
        });

        grade.Part("losses match torch.optim.Adam", 1, () =>
        {
            Expect.That(losses is not null && losses.Count == steps, "cannot compare the losses until one loss per step is returned.");
            bool Matches(List<double> reference) => Enumerable.Range(0, steps).All(t => Math.Abs(losses![t] - reference[t]) <= 1e-4 + 1e-3 * Math.Abs(reference[t]));
            if (!Matches(expected) && Matches(accumulated))
                Expect.Fail($"{call}: your losses are those of a loop that never clears the gradients, so each backward pass adds to "
                            + "the previous ones: call net.zero_grad() (or zero every p.grad) before loss.backward() at every step.");
            for (int t = 0; t < steps; t++)
                Expect.Close(losses![t], expected[t], $"{call}: the loss of step {t + 1}", 1e-4 + 1e-3 * Math.Abs(expected[t]),
                    "Use your AdamStep with β₁ = 0.9, β₂ = 0.999, ε = 1e-8, t counting from 1; clear the gradients before every backward pass.");
        });

        grade.Part("final weights match torch.optim.Adam", 1, () =>
        {
            Expect.That(losses is not null, "the training run did not finish.");
            var mine = studentNet.parameters().ToArray();
            var theirs = referenceNet.parameters().ToArray();
            // In float32, a weight whose gradient is ~0 (a dead ReLU unit) gets Adam steps of ±lr from rounding noise
            // alone, so a correct run may differ from torch.optim.Adam in a few values by up to a couple of steps. A
            // wrong update (bias correction, ε, state) moves nearly every value: allow ≤ 20 % of the values outside
            // the tight tolerance, none further than 3·lr.
            long outside = 0, total = 0;
            double worst = 0;
            for (int i = 0; i < mine.Length; i++)
            {
                using var difference = (mine[i].detach() - theirs[i].detach()).abs();
                using var limit = theirs[i].detach().abs() * 1e-3 + 1e-4;
                outside += difference.gt(limit).sum().item<long>();
                total += difference.numel();
                worst = Math.Max(worst, difference.max().item<float>());
                Expect.That(mine[i].shape.SequenceEqual(theirs[i].shape), $"parameter {i} after {call} changed shape.");
            }
            if (!(outside <= 0.2 * total && worst <= 3 * lr))
            {
                // the same rule against the loop that never clears the gradients
                var accumulatedWeights = accumulatingNet.parameters().ToArray();
                long near = 0;
                for (int i = 0; i < mine.Length && mine[i].shape.SequenceEqual(accumulatedWeights[i].shape); i++)
                {
                    using var difference = (mine[i].detach() - accumulatedWeights[i].detach()).abs();
                    using var limit = accumulatedWeights[i].detach().abs() * 1e-3 + 1e-4;
                    near += difference.le(limit).sum().item<long>();
                }
                if (near >= 0.8 * total)
                    Expect.Fail($"after {call}, your weights are those of a loop that never clears the gradients, so each backward pass adds "
                                + "to the previous ones: call net.zero_grad() (or zero every p.grad) before loss.backward() at every step.");
            }
            Expect.That(outside <= 0.2 * total && worst <= 3 * lr,
                $"after {call}, {outside} of {total} weights differ from torch.optim.Adam's (largest difference {worst:G3}; "
                + "expected at most 20 % outside 1e-4 + 1e-3·|expected| and none beyond 3·lr). "
                + "Train the network you are given, in place, for exactly `steps` steps.");
        });
    }
}

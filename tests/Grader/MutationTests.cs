using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

/// <summary>
/// Common mistakes, as mutations of the solution (issue 21): each must produce its own message, charged to the part
/// where the mistake is. Mutations of different questions do not interact (q1 to q3 are checked on the grader's own
/// inputs), so one grading (one worker, quick mode, synthetic data) carries one mutation per question.
/// </summary>
public sealed class MnistMutationTests
{
    /// <summary>A mutation: the text of the solution it replaces, its replacement, the question and part it costs, its message.</summary>
    /// <param name="Alone">True when the mistake costs that one part only (false where every part checks the same returned value).</param>
    public sealed record Mutation(string Name, string Old, string New, string Question, string Part, string Message, bool Alone = true);

    private const string Relu1 = "x = nn.functional.relu(fc1.call(x));", Relu2 = "x = nn.functional.relu(fc2.call(x));";
    private const string Logits = "return fc3.call(x);", AccuracyLine = "return correct.to_type(ScalarType.Float64).mean().item<double>();";
    private const string Predicted = "using var predicted = logits.argmax(1);", ZeroGrad = "        optimizer.zero_grad();\n";
    private const string Step = "        loss.backward();\n        optimizer.step();\n", LossSum = "lossSum += loss.item<float>() * X.shape[0];";

    public static TheoryData<Mutation[]> Groups() => new()
    {
        new[]
        {
            new Mutation("missing activation", Relu2, "x = fc2.call(x);", "q1", "forward pass", "there is no ReLU after fc2"),
            new Mutation("argmax without a dimension", Predicted, "using var predicted = logits.argmax();", "q2", "all right and all wrong", "argmax() without a dimension", Alone: false),
            new Mutation("missing zero_grad", ZeroGrad, "", "q3", "the parameters match one epoch of SGD", "an epoch without optimizer.zero_grad()"),
        },
        new[]
        {
            new Mutation("extra activation", Logits, "return nn.functional.relu(fc3.call(x));", "q1", "forward pass", "there is an activation after fc3"),
            new Mutation("count, not fraction", AccuracyLine, "return correct.sum().item<long>();", "q2", "all right and all wrong", "not the count of right rows", Alone: false),
            new Mutation("plain average of the batch losses", LossSum + "\n        seen += X.shape[0];", "lossSum += loss.item<float>();\n        seen += 1;",
                         "q3", "the returned mean loss", "the plain average of the batch losses"),
        },
        new[]
        {
            new Mutation("softmax output", Logits, "return nn.functional.softmax(fc3.call(x), 1);", "q1", "forward pass", "there is a softmax after fc3"),
            new Mutation("arg-min", Predicted, "using var predicted = logits.argmin(1);", "q2", "all right and all wrong", "arg-MIN", Alone: false),
            new Mutation("summed loss", "var loss = nn.functional.cross_entropy(yHat, y);", "var loss = nn.functional.cross_entropy(yHat, y, reduction: nn.Reduction.Sum);",
                         "q3", "the parameters match one epoch of SGD", "SUM over the batch"),
        },
        new[]
        {
            new Mutation("sigmoid activation", Relu1 + "     // (B, hidden1)\n        " + Relu2,
                         "x = torch.sigmoid(fc1.call(x));\n        x = torch.sigmoid(fc2.call(x));", "q1", "forward pass", "the activation is a sigmoid"),
            new Mutation("step before backward", ZeroGrad + Step, "        optimizer.step();\n        optimizer.zero_grad();\n        loss.backward();\n",
                         "q3", "the parameters match one epoch of SGD", "optimizer.step() before loss.backward()"),
        },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Each_mutation_is_named_in_the_part_where_the_mistake_is(Mutation[] group)
    {
        var notebook = GraderFixture.FastSolution();
        foreach (var m in group) GraderFixture.Replace(notebook, m.Old, m.New);
        var report = await GraderFixture.GradeAsync(GraderFixture.Save(notebook));
        AssertNamed(report, "hw-mnist-mlp", group);
    }

    /// <summary>Every mutation's question lost the part where the mistake is (only that part when it is independent), with the mutation's message.</summary>
    internal static void AssertNamed(GradeReport report, string homework, IEnumerable<Mutation> group)
    {
        string table = report.ToTable(200);
        foreach (var m in group)
        {
            var q = report.Questions.Single(x => x.Question == $"{homework}.{m.Question}");
            var failed = q.Feedback.Where(f => f.StartsWith('✗')).ToList();
            // The part where the mistake is (and no other, where the parts are independent) fails with the mutation's own message.
            Assert.True(failed.Count >= 1 && failed[0].StartsWith($"✗ {m.Part}", StringComparison.Ordinal), $"{m.Name}:\n{table}");
            Assert.True(!m.Alone || failed.Count == 1, $"{m.Name} cost more than one part:\n{table}");
            Assert.True(failed.All(f => f.Contains(m.Message, StringComparison.Ordinal)), $"{m.Name}: expected '{m.Message}':\n{table}");
        }
    }
}

public sealed class OptimizerMutationTests
{
    private static string SolutionPath => Path.Combine(GraderFixture.RepoRoot, "solutions", "hw-optimizers.ipynb");

    public static TheoryData<MnistMutationTests.Mutation[]> Groups() => new()
    {
        new[]
        {
            new MnistMutationTests.Mutation("damped velocity", "velocity[i].mul_(momentum).add_(gradients[i]);", "velocity[i].mul_(momentum).add_((1 - momentum) * gradients[i]);",
                                            "q1", "one step from zero velocity", "the velocity is damped", Alone: false),
            new MnistMutationTests.Mutation("no bias correction", "double correction1 = 1 - Math.Pow(beta1, t), correction2 = 1 - Math.Pow(beta2, t);",
                                            "double correction1 = 1, correction2 = 1;", "q2", "first step", "there is no bias correction", Alone: false),
            new MnistMutationTests.Mutation("gradients never cleared", "        net.zero_grad();\n", "", "q3", "losses match torch.optim.Adam", "never clears the gradients", Alone: false),
        },
        new[]
        {
            new MnistMutationTests.Mutation("not in place", "parameters[i].sub_(lr * velocity[i]);", "parameters[i] = parameters[i] - lr * velocity[i];",
                                            "q1", "one step from zero velocity", "the parameters did not change", Alone: false),
            new MnistMutationTests.Mutation("ε inside the root", "parameters[i].sub_(lr * mHat / (vHat.sqrt() + eps));", "parameters[i].sub_(lr * mHat / (vHat + eps).sqrt());",
                                            "q2", "tiny gradients", "ε is inside the square root"),
        },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Each_mutation_is_named_in_the_part_where_the_mistake_is(MnistMutationTests.Mutation[] group)
    {
        var notebook = Notebook.Load(SolutionPath);
        foreach (var m in group) GraderFixture.Replace(notebook, m.Old, m.New);
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        string path = Path.Combine(folder, "hw-optimizers.ipynb");
        notebook.Save(path);
        var report = await GraderFixture.GradeAsync(path);
        MnistMutationTests.AssertNamed(report, "hw-optimizers", group);
    }
}

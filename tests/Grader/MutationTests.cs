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
        AssertClean(report);
    }

    /// <summary>
    /// No student-facing form of the report (console table, Markdown, HTML, Gradescope and Classroom JSON) holds a native
    /// frame, a path of the grading machine (the checkout, the temporary folders, the NuGet cache) or the checks' source.
    /// </summary>
    internal static void AssertClean(GradeReport report)
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var forms = new (string Name, string Text)[]
        {
            ("table", report.ToTable(200)), ("markdown", Feedback.ToMarkdown(report, "student")), ("html", Feedback.ToHtml(report, "student")),
            ("gradescope", report.ToGradescopeJson()), ("classroom", report.ToClassroomJson()),
        };
        foreach (var (name, text) in forms)
        {
            foreach (string bad in new[] { "frame #", "c10::", "Exception raised from", "   at ", ".csx", "QuestionCheck", "Expect.", "grade.Part",
                                           GraderFixture.RepoRoot, Path.GetTempPath().TrimEnd('/'), home + "/", ".nuget/packages" })
                Assert.False(text.Contains(bad, StringComparison.Ordinal), $"{name} holds '{bad}':\n{text}");
            Assert.DoesNotMatch(@"\bat [\w.]+\.\w+\(", text);
        }
    }
}

public sealed class OptimizerMutationTests
{
    private static string SolutionPath => Path.Combine(GraderFixture.RepoRoot, "solutions", "hw-optimizers.ipynb");

    // q3's loop calls the student's AdamStep, so a q3 mutation shares a grading with q1's only.
    public static TheoryData<MnistMutationTests.Mutation[]> Groups() => new()
    {
        new[]
        {
            new MnistMutationTests.Mutation("damped velocity", "velocity[i].mul_(momentum).add_(gradients[i]);", "velocity[i].mul_(momentum).add_((1 - momentum) * gradients[i]);",
                                            "q1", "one step from zero velocity", "the velocity is damped", Alone: false),
            new MnistMutationTests.Mutation("gradients never cleared", "        net.zero_grad();\n", "", "q3", "losses match torch.optim.Adam", "never clears the gradients", Alone: false),
        },
        new[]
        {
            new MnistMutationTests.Mutation("not in place", "parameters[i].sub_(lr * velocity[i]);", "parameters[i] = parameters[i] - lr * velocity[i];",
                                            "q1", "one step from zero velocity", "did not change", Alone: false),
            new MnistMutationTests.Mutation("no bias correction", "double correction1 = 1 - Math.Pow(beta1, t), correction2 = 1 - Math.Pow(beta2, t);",
                                            "double correction1 = 1, correction2 = 1;", "q2", "first step", "there is no bias correction", Alone: false),
        },
        new[]
        {
            new MnistMutationTests.Mutation("uphill step", "parameters[i].sub_(lr * velocity[i]);", "parameters[i].add_(lr * velocity[i]);",
                                            "q1", "one step from zero velocity", "goes uphill", Alone: false),
            new MnistMutationTests.Mutation("ε inside the root", "parameters[i].sub_(lr * mHat / (vHat.sqrt() + eps));", "parameters[i].sub_(lr * mHat / (vHat + eps).sqrt());",
                                            "q2", "tiny gradients", "ε is inside the square root"),
        },
        new[]
        {
            new MnistMutationTests.Mutation("steps with the gradient", "parameters[i].sub_(lr * velocity[i]);", "parameters[i].sub_(lr * gradients[i]);",
                                            "q1", "five steps, velocity carried over", "as if the velocity were not carried over"),
            new MnistMutationTests.Mutation("|g| instead of g²", "v[i].mul_(beta2).add_((1 - beta2) * g * g);", "v[i].mul_(beta2).add_((1 - beta2) * g.abs());",
                                            "q2", "first step", "v averages |g|", Alone: false),
        },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Each_mutation_is_named_in_the_part_where_the_mistake_is(MnistMutationTests.Mutation[] group)
    {
        var report = await GradeMutated("hw-optimizers", group);
        MnistMutationTests.AssertNamed(report, "hw-optimizers", group);
    }

    /// <summary>Grades the homework's solution with the group's mutations applied (quick mode), saved under the homework's name.</summary>
    internal static Task<GradeReport> GradeMutated(string homework, IEnumerable<MnistMutationTests.Mutation> group, Action<Notebook>? edit = null, GradeOptions? options = null)
    {
        var notebook = Notebook.Load(Path.Combine(GraderFixture.RepoRoot, "solutions", homework + ".ipynb"));
        foreach (var m in group) GraderFixture.Replace(notebook, m.Old, m.New);
        edit?.Invoke(notebook);
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        string path = Path.Combine(folder, homework + ".ipynb");
        notebook.Save(path);
        return GraderFixture.GradeAsync(path, options);
    }
}

/// <summary>hw-classic-ml: the four functions are checked on the grader's own inputs, so one grading carries one mutation per question.</summary>
public sealed class ClassicMlMutationTests
{
    private const int ClassicSeed = 20261205;

    private static MnistMutationTests.Mutation M(string name, string old, string replacement, string question, string part, string message, bool alone = false) =>
        new(name, old, replacement, question, part, message, alone);

    private const string Q1 = "random features and labels", Q2 = "assignment to the nearest centre", Q3 = "explained variance ratio";

    public static TheoryData<MnistMutationTests.Mutation[]> Groups() => new()
    {
        new[]
        {
            M("Gini instead of entropy", "return -counts.Sum(c => c / n * Math.Log2(c / n));", "return 1 - counts.Sum(c => c / n * (c / n));",
              "q1", Q1, "Gini impurity"),
            M("Manhattan distance in k-means", "torch.cdist(x, c).argmin(1)", "torch.cdist(x, c, p: 1).argmin(1)", "q2", Q2, "Manhattan (L1)"),
            M("data not centred", "var centred = x - x.mean([0]);", "var centred = x;", "q3", Q3, "not centred"),
            M("ties to the smallest label", "result[q] = neighbours.First(c => votes[c] == most);",
              "result[q] = votes.Where(v => v.Value == most).Min(v => v.Key);", "q4", "several classes, even k", "SMALLEST label"),
        },
        new[]
        {
            M("entropy in nats", "Math.Log2(c / n)", "Math.Log(c / n)", "q1", Q1, "in nats"),
            M("farthest centre", "torch.cdist(x, c).argmin(1)", "torch.cdist(x, c).argmax(1)", "q2", Q2, "FARTHEST"),
            M("smallest eigenvalues", "values.argsort(descending: true)", "values.argsort()", "q3", Q3, "Largest first"),
            M("Manhattan distance in k-NN", "torch.cdist(XQuery.to(float64), XTrain.to(float64));",
              "torch.cdist(XQuery.to(float64), XTrain.to(float64), p: 1);", "q4", "two classes, odd k", "Manhattan (L1)"),
        },
        new[]
        {
            M("parts not weighted by size", ".Sum(g => g.Count() / total * Entropy(g.Select(i => labels[i])));",
              ".Average(g => Entropy(g.Select(i => labels[i])));", "q1", Q1, "not weighted by their size", alone: true),
            M("empty cluster to the origin", "return (assignment, torch.where(counts > 0, means, c));", "return (assignment, means);",
              "q2", "a centre without points", "moved to the origin", alone: true),
            M("ratio over the kept eigenvalues", "values.index_select(0, order) / values.sum()",
              "values.index_select(0, order) / values.index_select(0, order).sum()", "q3", Q3, "not only the k you keep", alone: true),
            M("k off by one", "    var (_, nearest) = distances.topk(", "    k += 1;\n    var (_, nearest) = distances.topk(",
              "q4", "two classes, odd k", "k is off by one"),
        },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Each_mutation_is_named_in_the_part_where_the_mistake_is(MnistMutationTests.Mutation[] group)
    {
        // A fixed seed: whether a k-NN mutation changes the predictions of a given part depends on the drawn points.
        var report = await OptimizerMutationTests.GradeMutated("hw-classic-ml", group, options: GraderFixture.Options() with { Seed = ClassicSeed });
        MnistMutationTests.AssertNamed(report, "hw-classic-ml", group);
    }

    [Fact]
    public async Task A_fixed_seed_reproduces_the_checks_inputs_and_a_fresh_one_does_not()
    {
        var group = Enumerable.First<object[]>(Groups()).Cast<MnistMutationTests.Mutation>().ToArray();   // wrong values whose feedback quotes the random inputs' sizes
        string Text(GradeReport r) => string.Join("\n", r.Questions.SelectMany(q => q.Feedback));
        var seeded = GraderFixture.Options() with { Seed = ClassicSeed };
        string first = Text(await OptimizerMutationTests.GradeMutated("hw-classic-ml", group, options: seeded));
        string second = Text(await OptimizerMutationTests.GradeMutated("hw-classic-ml", group, options: seeded));
        Assert.Equal(first, second);
        string other = Text(await OptimizerMutationTests.GradeMutated("hw-classic-ml", group, options: seeded with { Seed = ClassicSeed + 1 }));
        Assert.NotEqual(first, other);
    }
}

/// <summary>
/// hw-imdb-bert (quick mode): q1 to q4 are checked on the grader's own inputs and a small random BERT, so their mutations
/// share gradings that stop before the fine-tuning (the expensive cells, which only q5 needs); q5's mutation gets the one
/// grading that fine-tunes.
/// </summary>
public sealed class ImdbBertMutationTests
{
    private static MnistMutationTests.Mutation M(string name, string old, string replacement, string question, string part, string message, bool alone = false) =>
        new(name, old, replacement, question, part, message, alone);

    public static TheoryData<MnistMutationTests.Mutation[], bool> Groups() => new()
    {
        {
            new[]
            {
                M("attention mask 1 on padding", "for (int i = 0; i < kept.Length + 2; i++) mask[row, i] = 1;", "for (int i = 0; i < maxLength; i++) mask[row, i] = 1;",
                  "q1", "the attention mask", "1 on [PAD] positions", alone: true),
                M("every picked token masked",
                  "var inputs = torch.where(toMask, torch.full_like(ids, tokenizer.MaskId), ids);\n    inputs = torch.where(toRandom, torch.randint_like(ids, 0, tokenizer.VocabSize), inputs);",
                  "var inputs = torch.where(picked, torch.full_like(ids, tokenizer.MaskId), ids);", "q2", "80 % [MASK]", "every picked token became [MASK]", alone: true),
                M("mean over the padding", "var mean = (hidden * weights).sum(1) / weights.sum(1).clamp_min(1);", "var mean = hidden.mean([1]);",
                  "q3", "padded positions are ignored", "includes the [PAD] positions"),
                M("no warm-up", "    if (step < warmupSteps) return peak * step / warmupSteps;\n", "", "q4", "the warm-up", "There is no warm-up", alone: true),
            },
            false
        },
        {
            new[]
            {
                M("head-only truncation", "pieces.Take(head).Concat(pieces.Skip(pieces.Length - (keep - head))).ToArray()", "pieces.Take(keep).ToArray()",
                  "q1", "ids with [CLS]", "FIRST maxLength − 2 pieces", alone: true),
                M("special tokens picked", "var picked = torch.rand(ids.shape).lt(probability).logical_and(special.logical_not());",
                  "var picked = torch.rand(ids.shape).lt(probability);", "q2", "labels, unpicked tokens and special tokens", "special token"),
                M("no attention mask in the encoder", "var hidden = Encoder.call(ids, mask);", "var hidden = Encoder.call(ids, torch.ones_like(mask));",
                  "q3", "padded positions are ignored", "without the attention mask"),
                M("decay over all steps", "(totalSteps - step) / (double)Math.Max(1, totalSteps - warmupSteps)", "(totalSteps - step) / (double)totalSteps",
                  "q4", "the warm-up", "divides by totalSteps"),
            },
            false
        },
        {
            new[]
            {
                M("last position pooled", "return head.call(dropout.call(mean)).MoveToOuterDisposeScope();",
                  "return head.call(dropout.call(hidden.select(1, -1))).MoveToOuterDisposeScope();", "q3", "padded positions are ignored", "last position"),
                M("integer division in the warm-up", "if (step < warmupSteps) return peak * step / warmupSteps;",
                  "if (step < warmupSteps) return peak * (step / warmupSteps);", "q4", "the warm-up", "integer division", alone: true),
            },
            false
        },
        {
            new[]
            {
                M("labels swapped", "var loss = nn.functional.cross_entropy(logits, trainLabels.index_select(0, rows));",
                  "var loss = nn.functional.cross_entropy(logits, 1 - trainLabels.index_select(0, rows));", "q5", "held-out accuracy", "OPPOSITE class", alone: true),
            },
            true
        },
    };

    [Theory]
    [MemberData(nameof(Groups))]
    public async Task Each_mutation_is_named_in_the_part_where_the_mistake_is(MnistMutationTests.Mutation[] group, bool fineTune)
    {
        var report = await OptimizerMutationTests.GradeMutated("hw-imdb-bert", group, notebook =>
        {
            // Drop what the graded questions of this group do not need: the comparison with a BERT trained from scratch, the
            // notebook's own evaluation and, unless q5 is graded, the fine-tuning.
            string first = fineTune ? "double Accuracy(nn.Module<Tensor, Tensor, Tensor> model" : "int numEpochs = 1, batchSize";
            int from = notebook.Cells.FindIndex(c => c.Source.Contains(first, StringComparison.Ordinal));
            Assert.True(from > 0, first);
            notebook.Cells.RemoveRange(from, notebook.Cells.Count - from);
        }, GraderFixture.Options(TimeSpan.FromMinutes(8), memoryMb: 8192));
        MnistMutationTests.AssertNamed(report, "hw-imdb-bert", group);
    }
}

/// <summary>hw-covid-regression: one question, so one mutation per grading (each trains the small MLP in quick mode, seconds).</summary>
public sealed class CovidMutationTests
{
    private const string Predict = "return net.call(Prepare(X)).squeeze(1) * yStd + yMean;", Part = "validation MSE on the fixed split";

    public static TheoryData<MnistMutationTests.Mutation> Mutations() => new()
    {
        new MnistMutationTests.Mutation("target left standardised", Predict, "return net.call(Prepare(X)).squeeze(1);", "q1", Part, "wrong scale"),
        new MnistMutationTests.Mutation("features not prepared for prediction", Predict, "return net.call(X.to(float32).index_select(1, selected)).squeeze(1) * yStd + yMean;",
                                        "q1", Part, "not prepared as in training"),
    };

    [Theory]
    [MemberData(nameof(Mutations))]
    public async Task Each_mutation_is_named(MnistMutationTests.Mutation mutation)
    {
        var report = await OptimizerMutationTests.GradeMutated("hw-covid-regression", [mutation]);
        MnistMutationTests.AssertNamed(report, "hw-covid-regression", [mutation]);
    }
}

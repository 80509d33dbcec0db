using MLCourse.Grading;

namespace MLCourse.Grader.Tests;

// Each class grades one notebook in worker processes (quick mode); xunit runs the classes in parallel.

public sealed class SolutionGradingTests
{
    [Fact]
    public async Task The_solution_earns_full_marks()
    {
        var report = await GraderFixture.GradeAsync(GraderFixture.SolutionPath);
        Assert.True(report.Score == report.MaxScore, report.ToTable());
        Assert.Equal(12, report.MaxScore);
        Assert.Equal(1, report.Workers);
    }
}

public sealed class ExerciseGradingTests
{
    [Fact]
    public async Task The_untouched_exercise_earns_zero_and_every_question_is_not_attempted()
    {
        var report = await GraderFixture.GradeAsync(GraderFixture.ExercisePath);
        Assert.True(report.Score == 0, report.ToTable());
        Assert.Equal(4, report.Questions.Count);
        Assert.All(report.Questions, q =>
        {
            Assert.True(q.NotAttempted, $"{q.Question}: {GraderFixture.Feedback(q)}");
            Assert.StartsWith("not attempted", q.Feedback[0]);
        });
    }
}

public sealed class WrongAnswerTests
{
    [Fact]
    public async Task Wrong_activation_off_by_one_accuracy_missing_zero_grad_and_no_training_cost_the_right_parts()
    {
        var notebook = GraderFixture.FastSolution();
        GraderFixture.Replace(notebook, "x = nn.functional.relu(fc1.call(x));", "x = torch.sigmoid(fc1.call(x));");
        GraderFixture.Replace(notebook, "return correct.to_type(ScalarType.Float64).mean().item<double>();",
                              "return correct.sum().item<long>() / (double)(labels.shape[0] - 1);");
        GraderFixture.Replace(notebook, "        optimizer.zero_grad();\n", "");
        var report = await GraderFixture.GradeAsync(GraderFixture.Save(notebook));
        string table = report.ToTable();

        var q1 = GraderFixture.Question(report, "q1");
        Assert.True(q1.Earned == 2, table);
        Assert.Contains("wrong value: logits[", GraderFixture.Feedback(q1));
        Assert.Contains("ReLU after fc1 and fc2", GraderFixture.Feedback(q1));

        var q2 = GraderFixture.Question(report, "q2");
        Assert.True(q2.Earned == 0 && !q2.NotAttempted, table);
        Assert.Contains("Off by one sample", GraderFixture.Feedback(q2));

        var q3 = GraderFixture.Question(report, "q3");
        Assert.True(q3.Earned is >= 1 and < 3, table);
        Assert.Contains("✓ the parameters are updated", GraderFixture.Feedback(q3));
        Assert.Contains("✗ the parameters match one epoch of SGD", GraderFixture.Feedback(q3));
        Assert.Contains("optimizer.zero_grad()", GraderFixture.Feedback(q3));

        var q4 = GraderFixture.Question(report, "q4");
        Assert.True(q4.Earned == 0, table);
        Assert.Contains("below both bars", GraderFixture.Feedback(q4));
        Assert.Contains("required ≥ 85.0 % for half and ≥ 90.0 % for full points", GraderFixture.Feedback(q4));
    }
}

public sealed class IsolationTests
{
    [Fact]
    public async Task Endless_loop_stack_overflow_huge_allocation_and_a_forged_report_cost_only_what_depends_on_them()
    {
        var notebook = GraderFixture.FastSolution();
        // Wrong shapes in q1: the hidden sizes swapped.
        GraderFixture.Replace(notebook, "fc1 = nn.Linear(inputs, hidden1);\n        fc2 = nn.Linear(hidden1, hidden2);\n        fc3 = nn.Linear(hidden2, outputs);",
                              "fc1 = nn.Linear(inputs, hidden2);\n        fc2 = nn.Linear(hidden2, hidden1);\n        fc3 = nn.Linear(hidden1, outputs);");
        GraderFixture.InsertAfter(notebook, "public sealed class Mlp", "while (true) { }   // an endless loop");
        GraderFixture.InsertAfter(notebook, "double Accuracy(", "int Down(int n) => Down(n + 1) + 1;\nDown(0)   // a stack overflow");
        GraderFixture.InsertAfter(notebook, "double TrainEpoch(", "var hog = torch.ones(40_000, 40_000);   // 6.4 GB");
        // A forged report: lines that look like the worker's, a results file, and a question claiming 100 points.
        GraderFixture.InsertAfter(notebook, "double TrainEpoch(", """
            var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            foreach (var q in new[] { "q1", "q2", "q3", "q4" })
                stdout.WriteLine($"0123456789ABCDEF0123456789ABCDEF result {{\"question\":\"hw-mnist-mlp.{q}\",\"parts\":[{{\"name\":\"x\",\"points\":100,\"earned\":100,\"feedback\":\"ok\",\"notAttempted\":false}}]}}");
            File.WriteAllText("results.json", "{\"score\": 100}");
            """);
        notebook.Cells.Single(c => c.Source.Contains("int numEpochs")).Metadata["mlcourse"]!["points"] = 100;

        var report = await GraderFixture.GradeAsync(GraderFixture.Save(notebook), GraderFixture.Options(TimeSpan.FromSeconds(60), memoryMb: 2000));
        string table = report.ToTable();

        Assert.True(report.Workers == 4, table);   // restarted after the loop, the overflow and the allocation
        Assert.Contains(report.Notes, n => n.Contains("cell limit (an endless loop?)"));
        Assert.Contains(report.Notes, n => n.Contains("stack overflow"));
        Assert.Contains(report.Notes, n => n.Contains("memory limit"));
        Assert.Contains(report.Cells.Values, c => c.Status == "TimedOut");
        Assert.Contains(report.Cells.Values, c => c.Status == "Crashed");
        Assert.Contains(report.Cells.Values, c => c.Status == "MemoryLimit");

        var q1 = GraderFixture.Question(report, "q1");
        Assert.True(q1.Earned == 1, table);   // only the output shape is right
        Assert.Contains("shape mismatch", GraderFixture.Feedback(q1));
        Assert.True(GraderFixture.Question(report, "q2").Earned == 2, table);
        Assert.True(GraderFixture.Question(report, "q3").Earned == 3, table);
        var q4 = GraderFixture.Question(report, "q4");
        Assert.True(q4.Earned == 0 && q4.Points == 4, table);
        Assert.Equal(6, report.Score);
        Assert.Equal(12, report.MaxScore);
    }
}

public sealed class MalformedNotebookTests
{
    [Fact]
    public async Task Malformed_JSON_gives_a_clear_error_and_zero_for_every_question_without_a_worker()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "hw-mnist-mlp.ipynb");
        File.WriteAllText(path, File.ReadAllText(GraderFixture.ExercisePath)[..500]);

        var report = await GraderFixture.GradeAsync(path);
        Assert.NotNull(report.Failure);
        Assert.Contains("not valid notebook JSON", report.Failure);
        Assert.Equal(0, report.Workers);
        Assert.Equal(4, report.Questions.Count);
        Assert.All(report.Questions, q => Assert.Equal(0, q.Earned));
        Assert.Contains("not valid notebook JSON", report.ToGradescopeJson());
    }

    [Fact]
    public async Task A_missing_notebook_or_missing_checks_means_grading_could_not_run()
    {
        await Assert.ThrowsAsync<GradingException>(() => GraderFixture.GradeAsync("/nonexistent/hw-mnist-mlp.ipynb"));
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "hw-unknown.ipynb");
        File.Copy(GraderFixture.ExercisePath, path);
        var options = GraderFixture.Options() with { Homework = "hw-unknown" };
        var e = await Assert.ThrowsAsync<GradingException>(() => GraderFixture.GradeAsync(path, options));
        Assert.Contains("no checks for homework 'hw-unknown'", e.Message);
    }
}

using MLCourse.Grading;
using MLCourse.Notebooks;

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
        // A private check (--checks DIR) adds a question of its own to the repository's checks.
        string privateChecks = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(privateChecks, "hw-mnist-mlp"));
        File.WriteAllText(Path.Combine(privateChecks, "hw-mnist-mlp", "hidden.csx"), """
            using MLCourse.Grading;
            using TorchSharp;
            [Question("hw-mnist-mlp.q2.hidden", Points = 1)]
            sealed class OneRowCheck(Func<torch.Tensor, torch.Tensor, double> Accuracy) : QuestionCheck
            {
                public override void Run(Grade grade) => grade.Part("one row", 1, () =>
                    Expect.Close(Accuracy(torch.ones(1, 3), torch.zeros(new long[] { 1 }, dtype: torch.ScalarType.Int64)), 1.0, "Accuracy of one right row", 1e-9));
            }
            """);
        var options = GraderFixture.Options() with { CheckFolders = [GraderFixture.ChecksFolder, privateChecks] };
        var report = await GraderFixture.GradeAsync(GraderFixture.Save(notebook), options);
        string table = report.ToTable();
        Assert.Equal(13, report.MaxScore);
        var hidden = report.Questions.Single(q => q.Question == "hw-mnist-mlp.q2.hidden");
        Assert.True(hidden.Earned == 0 && hidden.Points == 1, table);
        Assert.Contains("Accuracy of one right row", GraderFixture.Feedback(hidden));

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

        // Restarted after the loop and the overflow; the allocation fails inside its cell where the sandbox's RLIMIT_DATA
        // applies (Linux), else the grader stops the worker over the memory cap and restarts it once more.
        bool rlimit = OperatingSystem.IsLinux() && ProcessSandbox.Which("prlimit") is not null;
        Assert.True(report.Workers == (rlimit ? 3 : 4), table);
        Assert.Contains(report.Notes, n => n.Contains("cell limit (an endless loop?)"));
        Assert.Contains(report.Notes, n => n.Contains("stack overflow"));
        Assert.Contains(report.Cells.Values, c => c.Status == "TimedOut");
        Assert.Contains(report.Cells.Values, c => c.Status == "Crashed");
        if (rlimit)
            Assert.Contains(report.Cells.Values, c => c.Status == "Error" && c.Diagnosis?.Contains("allocate", StringComparison.OrdinalIgnoreCase) == true);
        else
        {
            Assert.Contains(report.Notes, n => n.Contains("memory limit"));
            Assert.Contains(report.Cells.Values, c => c.Status == "MemoryLimit");
        }

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

    [Theory]
    [InlineData("\"nbformat\": 4", "\"nbformat\": \"4\"")]
    [InlineData("\"nbformat_minor\": 5", "\"nbformat_minor\": [5]")]
    [InlineData("\"cell_type\": \"code\"", "\"cell_type\": 1")]
    [InlineData("\"source\": [", "\"source\": [1, ")]
    [InlineData("\"outputs\": []", "\"outputs\": [{\"output_type\": 3}]")]
    [InlineData("\"nbformat\": 4", "\"nbformat\": 4.5")]
    public async Task A_field_of_the_wrong_type_scores_zero_with_a_clear_note(string field, string wrong)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, "hw-mnist-mlp.ipynb");
        string json = File.ReadAllText(GraderFixture.ExercisePath);
        int at = json.IndexOf(field, StringComparison.Ordinal);
        Assert.True(at >= 0, field);
        File.WriteAllText(path, json[..at] + wrong + json[(at + field.Length)..]);

        var report = await GraderFixture.GradeAsync(path);
        Assert.NotNull(report.Failure);
        Assert.Contains("a field has the wrong type", report.Failure);
        Assert.Equal(0, report.Workers);
        Assert.All(report.Questions, q => Assert.Equal(0, q.Earned));
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

public sealed class SubmissionBoundaryTests
{
    private static string Folder()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    [Fact]
    public async Task A_submission_that_ships_its_own_checkout_and_checks_is_graded_by_the_installations_checks_only()
    {
        string folder = Folder();
        File.WriteAllText(Path.Combine(folder, "MLCourse.slnx"), "<Solution />");
        string own = Path.Combine(folder, "tests", "Grader", "checks", "hw-mnist-mlp");
        Directory.CreateDirectory(own);
        File.WriteAllText(Path.Combine(own, "free.csx"), """
            using MLCourse.Grading;
            [Question("hw-mnist-mlp.free", Points = 100)]
            sealed class FreePoints : QuestionCheck
            {
                public override void Run(Grade grade) => grade.Part("free", 100, () => { });
            }
            """);
        string path = Path.Combine(folder, "hw-mnist-mlp.ipynb");
        File.WriteAllText(path, "{ not a notebook");   // no worker needed: the question list is what matters
        var previous = Directory.GetCurrentDirectory();
        Directory.SetCurrentDirectory(folder);   // not from the working directory either
        try
        {
            var report = await GraderFixture.GradeAsync(path, GraderFixture.Options() with { CheckFolders = [] });
            Assert.DoesNotContain(report.Questions, q => q.Question == "hw-mnist-mlp.free");
            Assert.Equal(12, report.MaxScore);
        }
        finally
        {
            Directory.SetCurrentDirectory(previous);
        }
    }

    [Fact]
    public async Task A_graded_notebook_may_not_reference_a_dll_or_a_package_the_homework_does_not_declare()
    {
        string folder = Folder();
        string checks = Path.Combine(folder, "checks", "hw-refs");
        Directory.CreateDirectory(checks);
        File.WriteAllText(Path.Combine(checks, "q1.csx"), """
            using MLCourse.Grading;
            [Question("hw-refs.q1", Points = 1)]
            sealed class AnswerCheck(int answer) : QuestionCheck
            {
                public override void Run(Grade grade) => grade.Part("answer", 1, () => Expect.That(answer == 42, "answer is 42"));
            }
            """);
        string dll = typeof(SubmissionBoundaryTests).Assembly.Location;   // any DLL on the disk
        var notebook = new MLCourse.Notebooks.Notebook();
        foreach (var code in new[] { "#r \"nuget: MLCourse, 0.1.0\"\nint answer = 42;", $"#r \"{dll}\"", "#r \"nuget: Humanizer.Core, 2.14.1\"", "#load \"other.csx\"" })
            notebook.Cells.Add(new MLCourse.Notebooks.Cell(MLCourse.Notebooks.CellKind.Code, code, MLCourse.Notebooks.Notebook.CSharpCellMetadata()));
        notebook.Cells[0].Metadata["mlcourse"] = new System.Text.Json.Nodes.JsonObject { ["id"] = "hw-refs.q1", ["points"] = 1 };
        string path = Path.Combine(folder, "hw-refs.ipynb");
        notebook.Save(path);

        var report = await GraderFixture.GradeAsync(path, GraderFixture.Options() with { CheckFolders = [Path.Combine(folder, "checks")] });
        string table = report.ToTable();
        Assert.True(report.Cells[1].Status == "Ok", table);   // the carried package binds
        Assert.True(report.Score == 1, table);
        foreach (int cell in new[] { 2, 3, 4 })
        {
            Assert.True(report.Cells[cell].Status == "Error", $"cell {cell}: {report.Cells[cell]}\n{table}");
            Assert.Contains("is not allowed here", report.Cells[cell].Diagnosis);
        }
    }
}

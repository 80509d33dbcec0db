using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

/// <summary>
/// hw-detection's checks can fail: the solution with typical wrong answers, graded in quick mode with a fixed seed, loses
/// the parts each mistake touches, with feedback that names it. Two notebooks: mistakes whose effects stay inside their
/// question (the detector still trains, and q5 is measured with the grader's own decoding, NMS and mAP), and mistakes
/// that also spoil the training q5 measures.
/// </summary>
public sealed class DetectionMutationTests
{
    private const int Seed = 20261205;

    private static string SolutionPath => Path.Combine(GraderFixture.RepoRoot, "solutions", "hw-detection.ipynb");

    private static Task<GradeReport> GradeAsync(Notebook notebook)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        string path = Path.Combine(folder, "hw-detection.ipynb");
        notebook.Save(path);
        return GraderFixture.GradeAsync(path, GraderFixture.Options() with { Seed = Seed });
    }

    private static QuestionResult Question(GradeReport report, string q) => report.Questions.Single(x => x.Question == $"hw-detection.{q}");

    private const string EpochsLine = "int numEpochs = Course.Pick(full: 8, quick: 5), batchSize = 32;";

    private const string Kept = "if (!kept.Any(k => classes[k] == classes[i] && iou[k * order.Length + i] > iouThreshold)) kept.Add(i);";

    [Fact]
    public void The_points_in_the_solution_match_the_points_of_the_checks()
    {
        var checks = CheckFiles.Load("hw-detection", [GraderFixture.ChecksFolder]);
        var graded = GradedCell.Find(Notebook.Load(SolutionPath));
        Assert.Equal(5, checks.Count);
        Assert.Equal(graded.Select(g => (g.Id, g.Points ?? 0)), checks.Select(c => (c.Question, c.Points)));
    }

    [Fact]
    public async Task Area_clamped_after_multiplying_ceiling_cells_no_objectness_weight_and_NMS_across_classes_cost_their_own_parts()
    {
        var notebook = Notebook.Load(SolutionPath);
        GraderFixture.Replace(notebook, "var intersection = (right - left).clamp_min(0) * (bottom - top).clamp_min(0);",
                              "var intersection = ((right - left) * (bottom - top)).clamp_min(0);");
        GraderFixture.Replace(notebook, "int column = (int)(cx / Cell), row = (int)(cy / Cell);",
                              "int column = (int)MathF.Ceiling(cx / Cell) - 1, row = (int)MathF.Ceiling(cy / Cell) - 1;");
        GraderFixture.Replace(notebook, "var weight = obj + 0.5 * (1 - obj);", "var weight = torch.ones_like(obj);");
        GraderFixture.Replace(notebook, Kept, "if (!kept.Any(k => iou[k * order.Length + i] > iouThreshold)) kept.Add(i);");

        var report = await GradeAsync(notebook);
        string table = report.ToTable();
        Assert.Equal(15, report.MaxScore);

        var q1 = Question(report, "q1");          // diagonally apart: two negative sides multiply to a positive "intersection"
        Assert.True(q1.Earned <= 1, table);
        Assert.Contains("✗ disjoint, touching, nested and identical boxes", GraderFixture.Feedback(q1));
        Assert.Contains("two negative sides make a positive area", GraderFixture.Feedback(q1));

        var q2 = Question(report, "q2");          // only centres exactly on a border land in the wrong cell
        Assert.True(q2.Earned == 2, table);
        Assert.Contains("✗ centres exactly on a cell border", GraderFixture.Feedback(q2));
        Assert.Contains("use ⌊c_x / 8⌋, not rounding", GraderFixture.Feedback(q2));

        var q3 = Question(report, "q3");          // λ_noobj = 1: the box and class terms are still masked
        Assert.True(q3.Earned == 1, table);
        Assert.Contains("✗ value on random outputs and targets", GraderFixture.Feedback(q3));
        Assert.Contains("✓ box and class outputs of empty cells are ignored", GraderFixture.Feedback(q3));
        Assert.Contains("weighted λ_noobj = 0.5", GraderFixture.Feedback(q3));

        var q4 = Question(report, "q4");          // a 7 suppresses a 1 on top of it
        Assert.True(q4.Earned <= 1, table);
        Assert.Contains("✗ boxes of different classes never suppress each other", GraderFixture.Feedback(q4));
        Assert.Contains("NMS is done per class", GraderFixture.Feedback(q4));

        var q5 = Question(report, "q5");          // the detector still trains; the grader decodes and suppresses with its own code
        Assert.True(q5.Earned == 3, table);
        Assert.Contains("measured by the grader", GraderFixture.Feedback(q5));
    }

    [Fact]
    public async Task Transposed_cells_no_class_term_and_suppressed_boxes_that_suppress_fail_with_their_messages_and_the_detector_scores_0()
    {
        var notebook = Notebook.Load(SolutionPath);
        GraderFixture.Replace(notebook, "int cell = row * Grid + column;", "int cell = column * Grid + row;");
        GraderFixture.Replace(notebook, "return (5 * box + objectness + classes) / output.shape[0];", "return (5 * box + objectness) / output.shape[0];");
        GraderFixture.Replace(notebook, Kept,
                              "if (!order.TakeWhile(j => j != i).Any(k => classes[k] == classes[i] && iou[k * order.Length + i] > iouThreshold)) kept.Add(i);");

        var report = await GradeAsync(notebook);
        string table = report.ToTable();

        var q1 = Question(report, "q1");
        Assert.True(q1.Earned == 3, table);

        var q2 = Question(report, "q2");          // rows from x: every responsible cell is the transposed one
        Assert.True(q2.Earned == 0, table);
        Assert.Contains("✗ responsible cells and their classes", GraderFixture.Feedback(q2));
        Assert.Contains("row ⌊c_y / 8⌋ (from y)", GraderFixture.Feedback(q2));

        var q3 = Question(report, "q3");          // without the class term only the value is wrong
        Assert.True(q3.Earned == 2, table);
        Assert.Contains("✗ value on random outputs and targets", GraderFixture.Feedback(q3));
        Assert.Contains("class cross-entropy (channels 5–14)", GraderFixture.Feedback(q3));

        var q4 = Question(report, "q4");
        Assert.True(q4.Earned <= 2, table);
        Assert.Contains("✓ boxes of different classes never suppress each other", GraderFixture.Feedback(q4));
        Assert.Contains("✗ a suppressed box suppresses nothing", GraderFixture.Feedback(q4));
        Assert.Contains("compare each box only with the boxes already KEPT", GraderFixture.Feedback(q4));

        var q5 = Question(report, "q5");          // the classes were never learned: a guess per box, far below both bars
        Assert.True(q5.Earned == 0, table);
        Assert.Contains("✗ mAP@0.5 on the grader's own scenes", GraderFixture.Feedback(q5));
        Assert.Contains("required ≥ 0.75 for full and ≥ 0.45 for half the points (quick mode)", GraderFixture.Feedback(q5));
    }

    [Fact]
    public async Task A_detector_that_predicts_nothing_scores_0_and_one_that_always_names_the_same_digit_stays_below_the_half_bar()
    {
        // one epoch is enough here: the last layer is then overwritten. First every cell's objectness is silenced, then
        // (second grading) class 3 wins in every cell.
        var notebook = Notebook.Load(SolutionPath);
        GraderFixture.Replace(notebook, EpochsLine, "int numEpochs = 1, batchSize = 32;");
        GraderFixture.InsertAfter(notebook, "nn.Module<Tensor, Tensor>? detector = null;",
            "using (torch.no_grad()) { var last = (TorchSharp.Modules.Conv2d)((TorchSharp.Modules.Sequential)detector!).children().Last(); "
            + "last.bias![0] = torch.tensor(-50f); last.weight![0] = torch.zeros_like(last.weight![0]); }");
        var silent = await GradeAsync(notebook);
        var q5 = Question(silent, "q5");
        Assert.True(q5.Earned == 0, silent.ToTable());
        Assert.Contains("mAP@0.5 0.000", GraderFixture.Feedback(q5));

        notebook = Notebook.Load(SolutionPath);
        GraderFixture.Replace(notebook, EpochsLine, "int numEpochs = 1, batchSize = 32;");
        GraderFixture.InsertAfter(notebook, "nn.Module<Tensor, Tensor>? detector = null;",
            "using (torch.no_grad()) { var last = (TorchSharp.Modules.Conv2d)((TorchSharp.Modules.Sequential)detector!).children().Last(); "
            + "last.bias![5 + 3] = torch.tensor(50f); }");
        var oneClass = await GradeAsync(notebook);
        q5 = Question(oneClass, "q5");
        Assert.True(q5.Earned == 0, oneClass.ToTable());
        Assert.Contains("✗ mAP@0.5 on the grader's own scenes", GraderFixture.Feedback(q5));
    }
}

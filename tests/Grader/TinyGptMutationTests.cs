using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

/// <summary>
/// hw-tiny-gpt's checks can fail: the solution with typical wrong answers, graded in quick mode, loses exactly the
/// parts each mistake touches, with feedback that names it. Two notebooks: mistakes whose effects stay inside their
/// question, and mistakes that also spoil the training the later bars measure.
/// </summary>
public sealed class TinyGptMutationTests
{
    private static string SolutionPath => Path.Combine(GraderFixture.RepoRoot, "solutions", "hw-tiny-gpt.ipynb");

    private static string Save(Notebook notebook)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        string path = Path.Combine(folder, "hw-tiny-gpt.ipynb");
        notebook.Save(path);
        return path;
    }

    private static QuestionResult Question(GradeReport report, string q) => report.Questions.Single(x => x.Question == $"hw-tiny-gpt.{q}");

    [Fact]
    public void The_points_in_the_solution_match_the_points_of_the_checks()
    {
        var checks = CheckFiles.Load("hw-tiny-gpt", [GraderFixture.ChecksFolder]);
        var graded = GradedCell.Find(Notebook.Load(SolutionPath));
        Assert.Equal(4, checks.Count);
        Assert.Equal(graded.Select(g => (g.Id, g.Points ?? 0)), checks.Select(c => (c.Question, c.Points)));
    }

    [Fact]
    public async Task Mask_above_the_diagonal_top_k_plus_one_naive_log_sigmoid_and_no_KL_penalty_cost_their_own_parts()
    {
        var notebook = Notebook.Load(SolutionPath);
        GraderFixture.Replace(notebook, "return torch.ones(length, length, dtype: ScalarType.Bool).tril();",
                              "return torch.ones(length, length, dtype: ScalarType.Bool).triu();");
        GraderFixture.Replace(notebook, "var (values, indices) = logits.topk(topK, dim: -1);",
                              "var (values, indices) = logits.topk(Math.Min(topK + 1, (int)logits.shape[^1]), dim: -1);");
        GraderFixture.Replace(notebook, "return -nn.functional.logsigmoid(rewardPreferred - rewardRejected).mean();",
                              "return -torch.log(torch.sigmoid(rewardPreferred - rewardRejected)).mean();");
        GraderFixture.Replace(notebook, "var total = reward - beta * (logPolicy.detach() - logReference);", "var total = reward;");

        var report = await GraderFixture.GradeAsync(Save(notebook));
        string table = report.ToTable();
        Assert.Equal(15, report.MaxScore);

        var q1 = Question(report, "q1");          // the library's Gpt has its own mask: only the mask part is lost
        Assert.True(q1.Earned == 3, table);
        Assert.Contains("✗ causal mask", GraderFixture.Feedback(q1));
        Assert.Contains("false above it (the future)", GraderFixture.Feedback(q1));
        Assert.Contains("✓ held-out loss of your pre-trained gpt", GraderFixture.Feedback(q1));

        var q2 = Question(report, "q2");          // a tiny temperature still gives the argmax
        Assert.True(q2.Earned == 1, table);
        Assert.Contains("✗ top-k keeps exactly k tokens", GraderFixture.Feedback(q2));
        Assert.Contains("non-zero probabilities per row", GraderFixture.Feedback(q2));

        var q3 = Question(report, "q3");          // right at small margins, so the reward model still trains
        Assert.True(q3.Earned == 3, table);
        Assert.Contains("✗ stable at margins of ±200", GraderFixture.Feedback(q3));
        Assert.Contains("use nn.functional.logsigmoid", GraderFixture.Feedback(q3));

        var q4 = Question(report, "q4");          // more vowels, but far from the reference
        Assert.True(q4.Earned == 1, table);
        Assert.Contains("✗ loss value", GraderFixture.Feedback(q4));
        Assert.Contains("✗ gradient with respect to logPolicy", GraderFixture.Feedback(q4));
        Assert.Contains("✓ the fine-tuned policy writes more vowels", GraderFixture.Feedback(q4));
        Assert.Contains("✗ KL to the reference stays bounded", GraderFixture.Feedback(q4));
        Assert.Contains("required ≤ 12.0", GraderFixture.Feedback(q4));
    }

    [Fact]
    public async Task Unshifted_loss_no_renormalisation_flipped_preference_and_gradient_through_R_fail_with_their_messages()
    {
        var notebook = Notebook.Load(SolutionPath);
        GraderFixture.Replace(notebook, "var targets = ids.narrow(1, 1, T - 1).reshape(-1);", "var targets = ids.narrow(1, 0, T - 1).reshape(-1);");
        GraderFixture.Replace(notebook, "var kept = (values / temperature).softmax(-1);",
                              "var kept = (logits / temperature).softmax(-1).gather(-1, indices);");
        GraderFixture.Replace(notebook, "return -nn.functional.logsigmoid(rewardPreferred - rewardRejected).mean();",
                              "return -nn.functional.logsigmoid(rewardRejected - rewardPreferred).mean();");
        GraderFixture.Replace(notebook, "var total = reward - beta * (logPolicy.detach() - logReference);",
                              "var total = reward - beta * (logPolicy - logReference);");

        var report = await GraderFixture.GradeAsync(Save(notebook));
        string table = report.ToTable();

        var q1 = Question(report, "q1");          // the model learns to copy the current character, not to predict the next
        Assert.True(q1.Earned == 1, table);
        Assert.Contains("✗ next-token loss on random logits", GraderFixture.Feedback(q1));
        Assert.Contains("Pair logits[:, t] with ids[:, t + 1]", GraderFixture.Feedback(q1));
        Assert.Contains("✗ held-out loss of your pre-trained gpt", GraderFixture.Feedback(q1));

        var q2 = Question(report, "q2");
        Assert.True(q2.Earned == 1, table);
        Assert.Contains("✗ matches the reference for random T and k", GraderFixture.Feedback(q2));
        Assert.Contains("every row sums to 1", GraderFixture.Feedback(q2));

        var q3 = Question(report, "q3");          // the reward model learns the opposite preference
        Assert.True(q3.Earned == 0, table);
        Assert.Contains("the preferred answer's reward comes first", GraderFixture.Feedback(q3));
        Assert.Contains("fresh held-out pairs ranked the reader's way", GraderFixture.Feedback(q3));

        var q4 = Question(report, "q4");          // same value, wrong gradient; trained on a bad model and a flipped reward
        Assert.True(q4.Earned <= 2, table);
        Assert.Contains("✓ loss value", GraderFixture.Feedback(q4));
        Assert.Contains("✗ gradient with respect to logPolicy", GraderFixture.Feedback(q4));
        Assert.Contains("use logPolicy.detach() inside R", GraderFixture.Feedback(q4));
        Assert.Contains("✗ the fine-tuned policy writes more vowels", GraderFixture.Feedback(q4));
    }
}

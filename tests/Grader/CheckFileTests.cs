using System.Text.Json.Nodes;
using MLCourse.Grading;

namespace MLCourse.Grader.Tests;

public sealed class CheckFileTests
{
    [Fact]
    public void Question_id_points_class_and_parameters_are_read_from_the_syntax()
    {
        var checks = CheckFiles.Parse("""
            using MLCourse.Grading;
            [Question("hw.q2", Points = 2.5)]
            sealed class AccuracyCheck(Func<int, double> Accuracy, object net) : QuestionCheck
            {
                public override void Run(Grade grade) { }
            }
            """, "q2.csx");
        var check = Assert.Single(checks);
        Assert.Equal(("hw.q2", 2.5, "AccuracyCheck"), (check.Question, check.Points, check.ClassName));
        Assert.Equal(["Accuracy", "net"], check.Parameters);
    }

    [Fact]
    public void A_check_without_literal_points_is_refused()
    {
        var e = Assert.Throws<CheckFileException>(() => CheckFiles.Parse("[Question(\"hw.q1\")] class C : QuestionCheck { }", "q1.csx"));
        Assert.Contains("Points", e.Message);
    }

    [Fact]
    public void Two_checks_for_one_question_are_refused()
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-check-tests", Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "a.csx"), "[Question(\"hw.q1\", Points = 1)] class A : QuestionCheck { }");
        File.WriteAllText(Path.Combine(folder, "b.csx"), "[Question(\"hw.q1\", Points = 1)] class B : QuestionCheck { }");
        var e = Assert.Throws<CheckFileException>(() => CheckFiles.Load("hw", [folder]));
        Assert.Contains("hw.q1.hidden", e.Message);
    }

    [Fact]
    public void The_results_file_follows_Gradescopes_schema()
    {
        var report = new GradeReport("x.ipynb",
            [new QuestionResult("hw.q1", 3, 2, ["✓ a (1/1): ok", "✗ b (0/1): wrong"], false), new QuestionResult("hw.q2", 2, 0, ["not attempted"], true)],
            new Dictionary<int, CellEvent>(), [], TimeSpan.FromSeconds(3), 1);
        var json = JsonNode.Parse(report.ToGradescopeJson())!;
        Assert.Equal(2, json["score"]!.GetValue<double>());
        var tests = json["tests"]!.AsArray();
        Assert.Equal(["hw.q1", "hw.q2"], tests.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal(3, tests[0]!["max_score"]!.GetValue<double>());
        Assert.Equal(2, tests[0]!["score"]!.GetValue<double>());
        Assert.Contains("wrong", tests[0]!["output"]!.GetValue<string>());
    }
}

using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MLCourse.Grader.Tests;

public sealed class ClassroomWorkflowTests
{
    private static string Workflow => Path.Combine(GraderFixture.RepoRoot, ".github", "classroom", "autograding.yml");

    /// <summary>
    /// Runs the workflow's grading step locally, as the runner would: the <c>run:</c> line of the step <c>id: mlcourse</c>,
    /// with the workflow's own environment values, in a student repository (the notebook at its root, the course checked
    /// out as <c>.mlcourse</c>), then decodes what it wrote to <c>$GITHUB_OUTPUT</c> as the Classroom reporter does.
    /// </summary>
    [Fact]
    public void The_workflows_grading_step_reports_per_question_points_in_the_classroom_format()
    {
        string yaml = File.ReadAllText(Workflow);
        Assert.Contains("name: Autograding Tests", yaml);   // the reporter only counts this workflow name and job name
        Assert.Contains("  run-autograding-tests:", yaml);
        Assert.Contains("uses: classroom-resources/autograding-grading-reporter@v1", yaml);
        Assert.Contains("MLCOURSE_RESULTS: \"${{ steps.mlcourse.outputs.result }}\"", yaml);
        Assert.Contains("runners: mlcourse", yaml);

        var lines = yaml.Split('\n');
        int step = Array.FindIndex(lines, l => l.Trim() == "id: mlcourse");
        Assert.True(step > 0, "no step with id: mlcourse");
        string run = lines.Skip(step).Select(l => l.Trim()).First(l => l.StartsWith("run: ", StringComparison.Ordinal))["run: ".Length..];
        // Every literal environment value of the workflow (job and step env; expressions left out).
        var environment = new Dictionary<string, string>();
        foreach (Match m in Regex.Matches(yaml, @"^ {6,}(?<key>[A-Z][A-Z0-9_]*): (?<value>[^#\n]*?)\s*(#.*)?$", RegexOptions.Multiline))
            if (!m.Groups["value"].Value.Contains("${{", StringComparison.Ordinal))
                environment[m.Groups["key"].Value] = m.Groups["value"].Value.Trim('"');
        Assert.Equal("hw-mnist-mlp", environment["HOMEWORK"]);
        Assert.StartsWith("dotnet .mlcourse/", environment["MLCOURSE"]);

        // The student's repository: their notebook (q2 answered: 2 of 12), the course checked out beside it.
        string repo = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", "classroom-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(repo);
        File.WriteAllText(Path.Combine(repo, "hw-mnist-mlp.ipynb"), Submissions.Partial().ToJson());
        Directory.CreateSymbolicLink(Path.Combine(repo, ".mlcourse"), GraderFixture.RepoRoot);
        string output = Path.Combine(repo, "..", Path.GetFileName(repo) + ".output"), summary = output + ".summary";
        environment["GITHUB_OUTPUT"] = output;
        environment["GITHUB_STEP_SUMMARY"] = summary;
        environment["MLCOURSE_DATASETS"] = "";   // the data are staged here (MLCOURSE_DATA); the runner fetches them

        var (code, log) = Cli.Run(TimeSpan.FromMinutes(4), environment, "bash", "-c", $"cd '{repo}' && {run}");
        Assert.True(code == 0, log);
        var result = File.ReadAllLines(output).Single(l => l.StartsWith("result=", StringComparison.Ordinal))["result=".Length..];
        using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(result)));
        var root = json.RootElement;
        Assert.Equal(1, root.GetProperty("version").GetInt32());
        Assert.Equal("fail", root.GetProperty("status").GetString());
        Assert.Equal(12, root.GetProperty("max_score").GetDouble());
        var tests = root.GetProperty("tests").EnumerateArray().ToList();
        Assert.Equal(["hw-mnist-mlp.q1", "hw-mnist-mlp.q2", "hw-mnist-mlp.q3", "hw-mnist-mlp.q4"], tests.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal([0.0, 2.0, 0.0, 0.0], tests.Select(t => t.GetProperty("score").GetDouble()));
        Assert.Equal(["fail", "pass", "fail", "fail"], tests.Select(t => t.GetProperty("status").GetString()));
        Assert.StartsWith("not attempted", tests[0].GetProperty("message").GetString());
        Assert.DoesNotContain(repo, root.ToString());
        // The student's feedback on the run's summary page.
        Assert.Contains("**2 of 12 points.**", File.ReadAllText(summary));
    }
}

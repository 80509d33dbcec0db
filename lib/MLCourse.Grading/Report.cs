using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLCourse.Grading;

/// <summary>One question's grade, computed in the grader's process.</summary>
/// <param name="Question">Question id.</param>
/// <param name="Points">The most it can earn (from the check file).</param>
/// <param name="Earned">Points earned, clamped to 0..<paramref name="Points"/>.</param>
/// <param name="Feedback">What was right and wrong, one line per part.</param>
/// <param name="NotAttempted">The student's cell still throws the released stub.</param>
public sealed record QuestionResult(string Question, double Points, double Earned, IReadOnlyList<string> Feedback, bool NotAttempted);

/// <summary>The outcome of grading one notebook.</summary>
/// <param name="Notebook">The graded notebook's path.</param>
/// <param name="Questions">One result per check class, in check order.</param>
/// <param name="Cells">The last report of each code cell (1-based index → event).</param>
/// <param name="Notes">Things the student should know that belong to no question (cells skipped, restarts).</param>
/// <param name="Elapsed">Wall time of the whole grading.</param>
/// <param name="Workers">How many worker processes ran.</param>
public sealed record GradeReport(string Notebook, IReadOnlyList<QuestionResult> Questions, IReadOnlyDictionary<int, CellEvent> Cells,
                                 IReadOnlyList<string> Notes, TimeSpan Elapsed, int Workers)
{
    /// <summary>Why the notebook could not be run at all (malformed JSON…), or null; every question then earns 0.</summary>
    public string? Failure { get; init; }

    /// <summary>Total points earned.</summary>
    public double Score => Math.Round(Questions.Sum(q => q.Earned), 4);

    /// <summary>Total points possible.</summary>
    public double MaxScore => Questions.Sum(q => q.Points);

    /// <summary>
    /// The table printed by <c>mlcourse grade</c>: question, points, earned, feedback. Feedback is cleaned for the
    /// student (<see cref="Feedback.Clean"/>) and wrapped to <paramref name="width"/> columns, continuation lines
    /// indented under the feedback column (two more spaces inside one part).
    /// </summary>
    /// <param name="width">Line width; the console's width when it is a terminal, else 100.</param>
    public string ToTable(int? width = null)
    {
        int total = Math.Max(60, width ?? DefaultWidth());
        int nameWidth = Math.Max("question".Length, Questions.Select(q => q.Question.Length).DefaultIfEmpty(0).Max());
        string indent = new(' ', nameWidth + 18);
        int room = Math.Max(30, total - indent.Length);
        var b = new StringBuilder();
        b.AppendLine($"{"question".PadRight(nameWidth)}  points  earned  feedback");
        b.AppendLine($"{new string('-', nameWidth)}  ------  ------  --------");
        foreach (var q in Questions)
        {
            var lines = new List<string>();
            foreach (var line in Feedback.Lines(q))
            {
                var wrapped = Feedback.Wrap(line.Text, room);
                lines.Add(wrapped[0]);
                lines.AddRange(Feedback.Wrap(string.Join(" ", wrapped.Skip(1)), room - 2).Where(l => l.Length > 0).Select(l => "  " + l));
            }
            if (lines.Count == 0) lines.Add("ok");
            b.AppendLine($"{q.Question.PadRight(nameWidth)}  {Number(q.Points),6}  {Number(q.Earned),6}  {lines[0]}");
            foreach (var line in lines.Skip(1)) b.AppendLine(indent + line);
        }
        b.AppendLine($"{new string('-', nameWidth)}  ------  ------");
        b.AppendLine($"{"total".PadRight(nameWidth)}  {Number(MaxScore),6}  {Number(Score),6}  ({Elapsed.TotalSeconds:0.0} s, {Workers} worker process{(Workers == 1 ? "" : "es")})");
        foreach (var note in Feedback.Notes(this)) AppendWrapped(b, "note: ", note, total);
        if (Failure is not null) AppendWrapped(b, "error: ", Feedback.Clean(Failure), total);
        return b.ToString();
    }

    /// <summary>
    /// Gradescope's results.json: score, execution_time, output (Markdown), tests[name, score, max_score, status,
    /// output (the question's feedback as Markdown, the same text as the Markdown/HTML files), visibility].
    /// </summary>
    public string ToGradescopeJson()
    {
        var tests = new JsonArray();
        foreach (var q in Questions)
            tests.Add(new JsonObject
            {
                ["name"] = q.Question,
                ["score"] = q.Earned,
                ["max_score"] = q.Points,
                ["status"] = q.Earned >= q.Points ? "passed" : "failed",
                ["output"] = Feedback.QuestionMarkdown(q).TrimEnd(),
                ["output_format"] = "md",
                ["visibility"] = "visible",
            });
        var summary = new StringBuilder($"{Number(Score)} of {Number(MaxScore)} points.");
        if (Failure is not null) summary.Append("\n\nNot graded: ").Append(Feedback.Clean(Failure));
        foreach (var note in Feedback.Notes(this)) summary.Append("\n\n- ").Append(note);
        var root = new JsonObject
        {
            ["score"] = Score,
            ["execution_time"] = Math.Round(Elapsed.TotalSeconds, 1),
            ["output"] = summary.ToString(),
            ["output_format"] = "md",
            ["tests"] = tests,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>
    /// GitHub Classroom's autograding result (what <c>classroom-resources/autograding-grading-reporter</c> reads,
    /// base64-encoded, from <c>RUNNER_RESULTS</c>): version, status, max_score, tests[name, status, score, message].
    /// </summary>
    public string ToClassroomJson()
    {
        var tests = new JsonArray();
        foreach (var q in Questions)
            tests.Add(new JsonObject
            {
                ["name"] = q.Question,
                ["status"] = q.Earned >= q.Points ? "pass" : "fail",
                ["score"] = q.Earned,
                ["message"] = string.Join("\n", Feedback.Lines(q).Select(l => l.Text)),
                ["test_code"] = $"mlcourse grade {Path.GetFileName(Notebook)}",
                ["execution_time"] = $"{Elapsed.TotalSeconds:0.0}s",
            });
        var root = new JsonObject
        {
            ["version"] = 1,
            ["status"] = Failure is not null ? "error" : Score >= MaxScore ? "pass" : "fail",
            ["max_score"] = MaxScore,
            ["tests"] = tests,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) + "\n";
    }

    /// <summary>The results file of a notebook that could not be graded at all: score 0 and the reason.</summary>
    public static string FailureJson(string reason) =>
        new JsonObject { ["score"] = 0, ["output"] = Feedback.Clean(reason), ["tests"] = new JsonArray() }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    /// <summary>GitHub Classroom's result of a notebook that could not be graded at all: status error, no tests, the reason.</summary>
    public static string ClassroomFailureJson(string reason) =>
        new JsonObject
        {
            ["version"] = 1,
            ["status"] = "error",
            ["max_score"] = 0,
            ["tests"] = new JsonArray(new JsonObject { ["name"] = "grading", ["status"] = "error", ["score"] = 0, ["message"] = Feedback.Clean(reason) }),
        }.ToJsonString() + "\n";

    private static void AppendWrapped(StringBuilder b, string head, string text, int width)
    {
        var lines = Feedback.Wrap(text, width - head.Length);
        b.AppendLine(head + lines[0]);
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0)) b.AppendLine(new string(' ', head.Length) + line);
    }

    private static int DefaultWidth()
    {
        try { return Console.IsOutputRedirected ? 100 : Math.Clamp(Console.WindowWidth, 60, 160); }
        catch (Exception e) when (e is IOException or PlatformNotSupportedException or InvalidOperationException) { return 100; }
    }

    private static string Number(double x) => x.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}

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

    /// <summary>The table printed by <c>mlcourse grade</c>: question, points, earned, feedback.</summary>
    public string ToTable()
    {
        int width = Math.Max("question".Length, Questions.Select(q => q.Question.Length).DefaultIfEmpty(0).Max());
        var b = new StringBuilder();
        b.AppendLine($"{"question".PadRight(width)}  points  earned  feedback");
        b.AppendLine($"{new string('-', width)}  ------  ------  --------");
        foreach (var q in Questions)
        {
            var lines = q.Feedback.Count == 0 ? ["ok"] : q.Feedback;
            b.AppendLine($"{q.Question.PadRight(width)}  {Number(q.Points),6}  {Number(q.Earned),6}  {lines[0]}");
            foreach (var line in lines.Skip(1)) b.AppendLine($"{new string(' ', width + 18)}{line}");
        }
        b.AppendLine($"{new string('-', width)}  ------  ------");
        b.AppendLine($"{"total".PadRight(width)}  {Number(MaxScore),6}  {Number(Score),6}  ({Elapsed.TotalSeconds:0.0} s, {Workers} worker process{(Workers == 1 ? "" : "es")})");
        foreach (var note in Notes) b.AppendLine($"note: {note}");
        if (Failure is not null) b.AppendLine($"error: {Failure}");
        return b.ToString();
    }

    /// <summary>Gradescope's results.json: score, execution_time, output, tests[name, score, max_score, output].</summary>
    public string ToGradescopeJson()
    {
        var tests = new JsonArray();
        foreach (var q in Questions)
            tests.Add(new JsonObject
            {
                ["name"] = q.Question,
                ["score"] = q.Earned,
                ["max_score"] = q.Points,
                ["output"] = string.Join("\n", q.Feedback),
                ["visibility"] = "visible",
            });
        var root = new JsonObject
        {
            ["score"] = Score,
            ["execution_time"] = Math.Round(Elapsed.TotalSeconds, 1),
            ["output"] = Failure ?? (Notes.Count == 0 ? $"{Number(Score)} of {Number(MaxScore)} points." : string.Join("\n", Notes)),
            ["tests"] = tests,
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    /// <summary>The results file of a notebook that could not be graded at all: score 0 and the reason.</summary>
    public static string FailureJson(string reason) =>
        new JsonObject { ["score"] = 0, ["output"] = reason, ["tests"] = new JsonArray() }
            .ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static string Number(double x) => x.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);
}

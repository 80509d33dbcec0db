using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;

namespace MLCourse.Grading;

/// <summary>One line of a question's feedback as a student reads it: a part's verdict, with expected and got when the check says them.</summary>
/// <param name="Text">The line, cleaned (no native frames, no paths of the grading machine).</param>
/// <param name="Passed">True for a ✓ part, false for a ✗ part, null for a line that is no part (not attempted, a cell's error).</param>
/// <param name="Expected">What the check expected (a value or a shape), when its message says so.</param>
/// <param name="Got">What the student's code gave, when the message says so.</param>
public sealed record FeedbackLine(string Text, bool? Passed, string? Expected, string? Got);

/// <summary>
/// Feedback a student can read: the grade report as Markdown and HTML (per question the points, each part's verdict,
/// the failing check's message and expected vs got where the check's message gives them), and the cleaning every
/// student-facing text goes through: native frames (libtorch's <c>frame #0: c10::Error…</c>, .NET's <c>at X.Y()</c>),
/// <c>Exception raised from … at /path</c> lines and absolute paths of the grading machine are removed; the raw text
/// stays in the report for the teacher's log.
/// </summary>
public static partial class Feedback
{
    /// <summary>
    /// <paramref name="text"/> without native or managed stack frames and with every absolute path reduced to its file
    /// name (<c>/home/grader/sub/alice.ipynb</c> → <c>alice.ipynb</c>). Blank lines left behind are dropped.
    /// </summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var kept = new List<string>();
        foreach (string raw in text.Replace("\r\n", "\n").Split('\n'))
        {
            string line = raw.TrimEnd();
            if (NativeFrame().IsMatch(line) || ManagedFrame().IsMatch(line) || RaisedFrom().IsMatch(line)) continue;
            // "… (most recent call first):" cut from the middle of a one-line message.
            line = RaisedFromInline().Replace(line, "").TrimEnd();
            // "(exit code 134: at System.Threading.Thread.StartCallback())": a frame quoted inside a sentence.
            line = InlineFrame().Replace(line, "");
            line = WindowsPath().Replace(UnixPath().Replace(line, m => FileName(m.Value)), m => FileName(m.Value));
            if (line.Trim().Length > 0) kept.Add(line);
        }
        return string.Join("\n", kept);
    }

    /// <summary>The cleaned lines of one question's feedback, each with expected and got split out when the message gives them.</summary>
    public static IReadOnlyList<FeedbackLine> Lines(QuestionResult question)
    {
        var lines = new List<FeedbackLine>();
        foreach (string raw in question.Feedback.Count == 0 ? ["ok"] : question.Feedback)
        {
            string text = Clean(raw);
            if (text.Length == 0) continue;
            bool? passed = text.StartsWith('✓') ? true : text.StartsWith('✗') ? false : null;
            string? expected = null, got = null;
            if (passed != true)
            {
                if (WrongValue().Match(text) is { Success: true } value)
                    (expected, got) = (value.Groups["want"].Value, $"{value.Groups["what"].Value} = {value.Groups["got"].Value}");
                else if (WrongShape().Match(text) is { Success: true } shape)
                    (expected, got) = ($"shape {shape.Groups["want"].Value}", $"{shape.Groups["what"].Value} has shape {shape.Groups["got"].Value}");
            }
            lines.Add(new FeedbackLine(text, passed, expected, got));
        }
        return lines;
    }

    /// <summary>The student's feedback as Markdown: a summary table, then one section per question, then the notes.</summary>
    /// <param name="report">The grade report.</param>
    /// <param name="student">Who it is for (the batch's student name), or null.</param>
    public static string ToMarkdown(GradeReport report, string? student = null)
    {
        var b = new StringBuilder();
        b.Append("# ").Append(Title(report, student)).Append("\n\n");
        b.Append($"**{Number(report.Score)} of {Number(report.MaxScore)} points.**\n\n");
        if (report.Failure is not null) b.Append("**Not graded:** ").Append(Clean(report.Failure)).Append("\n\n");
        b.Append("| question | points | earned |\n| --- | ---: | ---: |\n");
        foreach (var q in report.Questions)
            b.Append($"| {Escape(q.Question)} | {Number(q.Points)} | {Number(q.Earned)} |\n");
        b.Append('\n');
        foreach (var q in report.Questions)
        {
            b.Append($"## {Escape(q.Question)}: {Number(q.Earned)} of {Number(q.Points)}\n\n");
            b.Append(QuestionMarkdown(q));
        }
        var notes = Notes(report);
        if (notes.Count > 0)
        {
            b.Append("## Notes\n\n");
            foreach (string note in notes) b.Append("- ").Append(Escape(note)).Append('\n');
            b.Append('\n');
        }
        return b.ToString();
    }

    /// <summary>One question's parts as a Markdown list (what Gradescope shows under the question).</summary>
    public static string QuestionMarkdown(QuestionResult question)
    {
        var b = new StringBuilder();
        foreach (var line in Lines(question))
        {
            b.Append("- ").Append(Escape(line.Text).Replace("\n", "\n  ")).Append('\n');
            if (line.Expected is not null) b.Append("  - expected: `").Append(Code(line.Expected)).Append("`\n");
            if (line.Got is not null) b.Append("  - got: `").Append(Code(line.Got)).Append("`\n");
        }
        return b.Append('\n').ToString();
    }

    /// <summary>The student's feedback as a standalone HTML page (the same content as <see cref="ToMarkdown"/>).</summary>
    public static string ToHtml(GradeReport report, string? student = null)
    {
        static string H(string s) => WebUtility.HtmlEncode(s);
        var b = new StringBuilder();
        string title = Title(report, student);
        b.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>").Append(H(title)).Append("</title>\n")
         .Append("<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}"
                 + "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem}td.n{text-align:right}"
                 + ".ok{color:#1a7f37}.bad{color:#b42318}.pair{margin:.2rem 0 .2rem 1.5rem;font-family:monospace;white-space:pre-wrap}"
                 + "li{margin:.3rem 0;white-space:pre-wrap}</style>\n</head>\n<body>\n");
        b.Append("<h1>").Append(H(title)).Append("</h1>\n");
        b.Append("<p><strong>").Append(H($"{Number(report.Score)} of {Number(report.MaxScore)} points.")).Append("</strong></p>\n");
        if (report.Failure is not null) b.Append("<p class=\"bad\"><strong>Not graded:</strong> ").Append(H(Clean(report.Failure))).Append("</p>\n");
        b.Append("<table>\n<tr><th>question</th><th>points</th><th>earned</th></tr>\n");
        foreach (var q in report.Questions)
            b.Append("<tr><td>").Append(H(q.Question)).Append("</td><td class=\"n\">").Append(Number(q.Points))
             .Append("</td><td class=\"n\">").Append(Number(q.Earned)).Append("</td></tr>\n");
        b.Append("</table>\n");
        foreach (var q in report.Questions)
        {
            b.Append("<h2>").Append(H($"{q.Question}: {Number(q.Earned)} of {Number(q.Points)}")).Append("</h2>\n<ul>\n");
            foreach (var line in Lines(q))
            {
                string css = line.Passed switch { true => "ok", false => "bad", null => q.Earned >= q.Points ? "ok" : "bad" };
                b.Append("<li class=\"").Append(css).Append("\">").Append(H(line.Text));
                if (line.Expected is not null) b.Append("<div class=\"pair\">expected: ").Append(H(line.Expected)).Append("</div>");
                if (line.Got is not null) b.Append("<div class=\"pair\">got: ").Append(H(line.Got)).Append("</div>");
                b.Append("</li>\n");
            }
            b.Append("</ul>\n");
        }
        var notes = Notes(report);
        if (notes.Count > 0)
        {
            b.Append("<h2>Notes</h2>\n<ul>\n");
            foreach (string note in notes) b.Append("<li>").Append(H(note)).Append("</li>\n");
            b.Append("</ul>\n");
        }
        return b.Append("</body>\n</html>\n").ToString();
    }

    /// <summary>
    /// Wraps <paramref name="text"/> at spaces into lines of at most <paramref name="width"/> characters (a word longer
    /// than the width is cut); embedded newlines start new lines.
    /// </summary>
    public static IReadOnlyList<string> Wrap(string text, int width)
    {
        width = Math.Max(10, width);
        var lines = new List<string>();
        foreach (string paragraph in text.Split('\n'))
        {
            var line = new StringBuilder();
            foreach (string word in paragraph.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                string rest = word;
                while (rest.Length > 0)
                {
                    int room = line.Length == 0 ? width : width - line.Length - 1;
                    if (rest.Length <= room)
                    {
                        if (line.Length > 0) line.Append(' ');
                        line.Append(rest);
                        rest = "";
                    }
                    else if (line.Length > 0)
                    {
                        lines.Add(line.ToString());
                        line.Clear();
                    }
                    else
                    {
                        lines.Add(rest[..width]);
                        rest = rest[width..];
                    }
                }
            }
            lines.Add(line.ToString());
        }
        return lines;
    }

    /// <summary>The report's notes and failure, cleaned, for the student.</summary>
    internal static IReadOnlyList<string> Notes(GradeReport report) =>
        report.Notes.Select(Clean).Where(n => n.Length > 0).ToList();

    private static string Title(GradeReport report, string? student)
    {
        string homework = report.Questions.FirstOrDefault()?.Question.Split('.')[0] ?? Path.GetFileNameWithoutExtension(report.Notebook);
        return student is null ? $"{homework}: feedback" : $"{homework}: feedback for {student}";
    }

    private static string FileName(string path)
    {
        string trimmed = path.TrimEnd('/', '\\');
        int cut = Math.Max(trimmed.LastIndexOf('/'), trimmed.LastIndexOf('\\'));
        return cut < 0 ? trimmed : trimmed[(cut + 1)..];
    }

    /// <summary>Markdown-escapes the characters that would change a line's meaning (tables, emphasis, HTML).</summary>
    private static string Escape(string s) =>
        s.Replace("\\", "\\\\").Replace("|", "\\|").Replace("*", "\\*").Replace("_", "\\_").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string Code(string s) => s.Replace("`", "'");

    /// <summary>A score as the reports print it: <c>12</c>, <c>1.5</c>, <c>0.33</c> (invariant culture).</summary>
    public static string Number(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);

    // libtorch: "frame #0: c10::Error::Error(...) + 0x9a (0x7f… in /usr/lib/libc10.so)".
    [GeneratedRegex(@"^\s*frame #\d+:")]
    private static partial Regex NativeFrame();

    // .NET: "   at Namespace.Type.Method(Args) in /path/file.cs:line 12".
    [GeneratedRegex(@"^\s+at [\w.`<>\[\]+,|]+(\(.*\))?( in .*)?$")]
    private static partial Regex ManagedFrame();

    // Namespace-qualified (Capitalised.Namespace.Type.Method(…)) so that prose such as "look at x.flatten(1)" stays.
    [GeneratedRegex(@":?\s*\bat [A-Z][\w`<>]*(?:\.[\w`<>\[\]+,|]+){2,}\([^()]*\)(?: in \S+)?")]
    private static partial Regex InlineFrame();

    [GeneratedRegex(@"^\s*Exception raised from .*")]
    private static partial Regex RaisedFrom();

    [GeneratedRegex(@"\s*Exception raised from .*$")]
    private static partial Regex RaisedFromInline();

    // An absolute path: a slash not preceded by a word, a dot, a colon, a tilde or a slash, then at least one folder.
    [GeneratedRegex(@"(?<![\w.:~/\\])/(?:[\w.@+\-]+/)+[\w.@+\-]*")]
    private static partial Regex UnixPath();

    [GeneratedRegex(@"(?<![\w])[A-Za-z]:\\(?:[\w.@+\- ]+\\)+[\w.@+\-]*")]
    private static partial Regex WindowsPath();

    // Expect.Close: "wrong value: {what} is {got}, expected {want} (…".
    [GeneratedRegex(@"wrong value: (?<what>.+?) is (?<got>\S+), expected (?<want>[^\s(]+)")]
    private static partial Regex WrongValue();

    // Expect.Shape: "shape mismatch: {what} has shape [..], expected [..].".
    [GeneratedRegex(@"shape mismatch: (?<what>.+?) has shape (?<got>\[[^\]]*\]), expected (?<want>\[[^\]]*\])")]
    private static partial Regex WrongShape();
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>One student's submission found in a folder of submissions.</summary>
/// <param name="Student">The student: the file name without extension (<c>alice.ipynb</c> → <c>alice</c>) or the sub-folder's name (<c>alice/…</c>).</param>
/// <param name="Path">The notebook to grade (or the file or folder that is not one).</param>
/// <param name="Problem">Why it cannot be graded (not a notebook, no notebook in the folder), or null.</param>
public sealed record Submission(string Student, string Path, string? Problem = null);

/// <summary>One student's outcome in a batch: always a report (every question, 0 with the reason when it could not be graded).</summary>
/// <param name="Submission">The submission.</param>
/// <param name="Report">Its grade report; for an ungraded submission, every question at 0 and <see cref="GradeReport.Failure"/> set.</param>
public sealed record BatchResult(Submission Submission, GradeReport Report)
{
    /// <summary>What the teacher should know about this submission, on one line (empty when graded normally).</summary>
    public string Note => string.Join("; ", new[] { Report.Failure }.Concat(Report.Notes)
        .Where(n => !string.IsNullOrWhiteSpace(n)).Select(n => Feedback.Clean(n!).Replace('\n', ' ')));
}

/// <summary>
/// Grading a whole class (<c>mlcourse grade DIR --jobs N --csv grades.csv</c>): finds the submissions in a folder,
/// grades them in parallel (each in its own worker processes, through <see cref="Grader.GradeAsync(string, GradeOptions, System.Threading.CancellationToken)"/>), gives every
/// submission that is not a notebook 0 with a note, and never lets one submission stop the batch.
/// </summary>
public static class Batch
{
    /// <summary>
    /// The submissions in <paramref name="folder"/>. A file directly in the folder is one student's submission, named by
    /// its file name without extension (<c>alice.ipynb</c> → <c>alice</c>; a <c>bob.txt</c> is a submission that is not a
    /// notebook). A sub-folder is one student's submission, named by the folder (<c>carol/hw-mnist-mlp.ipynb</c> →
    /// <c>carol</c>, as GitHub Classroom and Gradescope exports lay them out): its notebook is the one <c>*.ipynb</c> in it
    /// (checkpoints excluded), or the one named <c>HOMEWORK.ipynb</c> when there are several. Hidden entries and the
    /// paths in <paramref name="skip"/> (the output folder, the CSV) are left out.
    /// </summary>
    public static IReadOnlyList<Submission> Find(string folder, string? homework = null, IEnumerable<string>? skip = null)
    {
        string root = System.IO.Path.GetFullPath(folder);
        if (!Directory.Exists(root)) throw new GradingException($"{folder}: no such folder.");
        var skipped = (skip ?? []).Select(p => System.IO.Path.GetFullPath(p).TrimEnd(System.IO.Path.DirectorySeparatorChar)).ToHashSet(StringComparer.Ordinal);
        var found = new List<Submission>();
        foreach (string file in Directory.GetFiles(root).Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileName(file);
            if (name.StartsWith('.') || skipped.Contains(file)) continue;
            string student = System.IO.Path.GetFileNameWithoutExtension(name);
            found.Add(name.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase)
                ? new Submission(student, file)
                : new Submission(student, file, $"{name} is not a notebook: submit the .ipynb file."));
        }
        foreach (string dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string name = System.IO.Path.GetFileName(dir);
            if (name.StartsWith('.') || skipped.Contains(dir)) continue;
            var notebooks = Directory.EnumerateFiles(dir, "*.ipynb", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{System.IO.Path.DirectorySeparatorChar}.", StringComparison.Ordinal)
                            && !f.Contains(".ipynb_checkpoints", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList();
            if (notebooks.Count > 1 && homework is not null)
            {
                var named = notebooks.Where(f => System.IO.Path.GetFileNameWithoutExtension(f) == homework).ToList();
                if (named.Count == 1) notebooks = named;
            }
            found.Add(notebooks.Count switch
            {
                0 => new Submission(name, dir, $"the folder {name}/ holds no notebook (.ipynb)."),
                1 => new Submission(name, notebooks[0]),
                _ => new Submission(name, dir, $"the folder {name}/ holds {notebooks.Count} notebooks "
                                               + $"({string.Join(", ", notebooks.Select(f => System.IO.Path.GetRelativePath(dir, f)))}); name one {homework ?? "HOMEWORK"}.ipynb."),
            });
        }
        // Two entries for one student (alice.ipynb and alice/): keep both, told apart by their entry names.
        foreach (var group in found.GroupBy(s => s.Student, StringComparer.Ordinal).Where(g => g.Count() > 1).ToList())
            foreach (var s in group.ToList())
            {
                string entry = System.IO.Path.GetRelativePath(root, s.Path).Split(System.IO.Path.DirectorySeparatorChar)[0];
                found[found.IndexOf(s)] = s with { Student = entry };
            }
        return found.OrderBy(s => s.Student, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The homework a folder of submissions is for, when <c>--homework</c> is not given: the id (a notebook's file name or
    /// its graded cells' id prefix, or the folder's name) that has checks and that most submissions point to; null when none.
    /// </summary>
    public static string? GuessHomework(string folder, IReadOnlyList<Submission> submissions, GradeOptions options)
    {
        var votes = new Dictionary<string, int>(StringComparer.Ordinal);
        void Vote(string? id)
        {
            if (!string.IsNullOrWhiteSpace(id)) votes[id] = votes.GetValueOrDefault(id) + 1;
        }
        Vote(System.IO.Path.GetFileName(System.IO.Path.GetFullPath(folder).TrimEnd(System.IO.Path.DirectorySeparatorChar)));
        foreach (var s in submissions.Where(s => s.Problem is null))
        {
            Vote(System.IO.Path.GetFileNameWithoutExtension(s.Path));
            try
            {
                var notebook = Notebook.Parse(File.ReadAllText(s.Path), s.Path);
                Vote(GradedCell.Find(notebook).FirstOrDefault()?.Id.Split('.')[0]);
            }
            catch (Exception e) when (e is NotebookFormatException or IOException or UnauthorizedAccessException or JsonException) { }
        }
        var folders = CheckFolders(options);
        return votes.OrderByDescending(v => v.Value).ThenBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => v.Key)
            .FirstOrDefault(id => !id.Contains('.') && CheckFiles.Load(id, folders).Count > 0);
    }

    /// <summary>The questions of <paramref name="homework"/> (id and points) from the checks the grader would use.</summary>
    public static IReadOnlyList<CheckInfo> Questions(string homework, GradeOptions options)
    {
        var checks = CheckFiles.Load(homework, CheckFolders(options));
        if (checks.Count == 0)
            throw new GradingException($"no checks for homework '{homework}' in {string.Join(", ", CheckFolders(options))} (name the homework with --homework ID).");
        return checks;
    }

    /// <summary>
    /// Grades every submission, at most <paramref name="jobs"/> at a time, with <paramref name="options"/> (whose
    /// <see cref="GradeOptions.Homework"/> must be set). <paramref name="done"/> is called as each one finishes (from
    /// any thread, one call at a time). Results come back in the order of <paramref name="submissions"/>.
    /// </summary>
    public static async Task<IReadOnlyList<BatchResult>> GradeAsync(IReadOnlyList<Submission> submissions, GradeOptions options, int jobs,
                                                                    Action<BatchResult>? done = null, CancellationToken cancellationToken = default)
    {
        string homework = options.Homework ?? throw new ArgumentException("GradeOptions.Homework must name the homework of a batch.", nameof(options));
        var questions = Questions(homework, options);
        var results = new BatchResult[submissions.Count];
        var gate = new object();
        await Parallel.ForEachAsync(Enumerable.Range(0, submissions.Count),
            new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, jobs), CancellationToken = cancellationToken },
            async (i, token) =>
            {
                var result = new BatchResult(submissions[i], await GradeOneAsync(submissions[i], questions, options, token));
                results[i] = result;
                lock (gate) done?.Invoke(result);
            });
        return results;
    }

    /// <summary>
    /// The gradebook: a header <c>student,submission,Q1,…,total,max,notes</c> (question ids without the homework
    /// prefix), then one row per student; numbers with a dot, fields quoted as RFC 4180 says.
    /// </summary>
    public static string ToCsv(IReadOnlyList<BatchResult> results, string? root = null)
    {
        var questions = results.SelectMany(r => r.Report.Questions.Select(q => q.Question)).Distinct(StringComparer.Ordinal).ToList();
        var b = new StringBuilder();
        var header = new List<string> { "student", "submission" };
        header.AddRange(questions.Select(Short));
        header.AddRange(["total", "max", "notes"]);
        b.Append(string.Join(",", header.Select(Quote))).Append('\n');
        foreach (var r in results.OrderBy(r => r.Submission.Student, StringComparer.Ordinal))
        {
            var row = new List<string> { r.Submission.Student, root is null ? r.Submission.Path : System.IO.Path.GetRelativePath(root, r.Submission.Path) };
            row.AddRange(questions.Select(q => r.Report.Questions.FirstOrDefault(x => x.Question == q) is { } x ? Feedback.Number(x.Earned) : ""));
            row.AddRange([Feedback.Number(r.Report.Score), Feedback.Number(r.Report.MaxScore), r.Note]);
            b.Append(string.Join(",", row.Select(Quote))).Append('\n');
        }
        return b.ToString();

        static string Short(string id) => id.Contains('.') ? id[(id.IndexOf('.') + 1)..] : id;
    }

    /// <summary>
    /// Writes one student's files into <paramref name="folder"/>: <c>STUDENT.json</c> (Gradescope's results.json schema),
    /// <c>STUDENT.md</c> and <c>STUDENT.html</c> (the feedback a student reads), and <c>STUDENT.log</c> (the teacher's log: the
    /// raw feedback, uncleaned, with the submission's path and the cells' outcomes).
    /// </summary>
    public static void WriteFiles(BatchResult result, string folder)
    {
        Directory.CreateDirectory(folder);
        string stem = System.IO.Path.Combine(folder, SafeName(result.Submission.Student));
        File.WriteAllText(stem + ".json", result.Report.ToGradescopeJson());
        File.WriteAllText(stem + ".md", Feedback.ToMarkdown(result.Report, result.Submission.Student));
        File.WriteAllText(stem + ".html", Feedback.ToHtml(result.Report, result.Submission.Student));
        File.WriteAllText(stem + ".log", TeacherLog(result));
    }

    /// <summary>The raw report (feedback exactly as the checks and the worker gave it, paths and frames included).</summary>
    public static string TeacherLog(BatchResult result)
    {
        var r = result.Report;
        var b = new StringBuilder();
        b.AppendLine($"student:    {result.Submission.Student}");
        b.AppendLine($"submission: {result.Submission.Path}");
        b.AppendLine($"score:      {Feedback.Number(r.Score)} of {Feedback.Number(r.MaxScore)} ({r.Elapsed.TotalSeconds:0.0} s, {r.Workers} worker process(es))");
        if (r.Failure is not null) b.AppendLine($"failure:    {r.Failure}");
        foreach (var q in r.Questions)
        {
            b.AppendLine($"{q.Question}: {Feedback.Number(q.Earned)}/{Feedback.Number(q.Points)}{(q.NotAttempted ? " (not attempted)" : "")}");
            foreach (var line in q.Feedback) b.AppendLine("    " + line.Replace("\n", "\n    "));
        }
        foreach (var (index, cell) in r.Cells.OrderBy(c => c.Key))
            b.AppendLine(string.Create(CultureInfo.InvariantCulture, $"cell {index}: {cell.Status} {cell.Seconds:0.0} s{(cell.Diagnosis is null ? "" : " " + cell.Diagnosis)}"));
        foreach (var note in r.Notes) b.AppendLine($"note: {note}");
        return b.ToString();
    }

    private static async Task<GradeReport> GradeOneAsync(Submission submission, IReadOnlyList<CheckInfo> questions, GradeOptions options, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        if (submission.Problem is not null) return Zero(submission, questions, submission.Problem, clock.Elapsed);
        try
        {
            var report = await Grader.GradeAsync(submission.Path, options, token);
            return report;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested) { throw; }
        catch (Exception e)
        {
            // Whatever went wrong with this one submission (the worker did not start, the file vanished…) costs it alone.
            string why = e is GradingException or CheckFileException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            return Zero(submission, questions, $"grading could not run: {why}", clock.Elapsed);
        }
    }

    private static GradeReport Zero(Submission submission, IReadOnlyList<CheckInfo> questions, string reason, TimeSpan elapsed) =>
        new(submission.Path, questions.Select(c => new QuestionResult(c.Question, c.Points, 0, [$"0 points: not graded ({reason.TrimEnd('.')})."], false)).ToList(),
            new Dictionary<int, CellEvent>(), [], elapsed, 0) { Failure = reason };

    private static IReadOnlyList<string> CheckFolders(GradeOptions options)
    {
        var folders = new List<string>();
        if (CheckFiles.DefaultFolder(options.InstallationFolder) is { } installed) folders.Add(installed);
        folders.AddRange(options.CheckFolders.Select(f => System.IO.Path.GetFullPath(f).TrimEnd(System.IO.Path.DirectorySeparatorChar)));
        return folders.Distinct(StringComparer.Ordinal).ToList();
    }

    private static string SafeName(string student)
    {
        var invalid = System.IO.Path.GetInvalidFileNameChars();
        string name = new(student.Select(c => invalid.Contains(c) ? '_' : c).ToArray());
        return name.Length == 0 || name.StartsWith('.') ? "_" + name : name;
    }

    private static string Quote(string field)
    {
        // A leading =, +, - or @ would be a formula in a spreadsheet: prefix a quote (OWASP's advice for CSV injection).
        if (field.Length > 0 && "=+-@".Contains(field[0]) && !double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            field = "'" + field;
        return field.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + field.Replace("\"", "\"\"") + "\"" : field;
    }
}

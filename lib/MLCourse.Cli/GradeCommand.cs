using System.CommandLine;
using MLCourse.Grading;

namespace MLCourse.Cli;

/// <summary>
/// <c>mlcourse grade NOTEBOOK [--quick] [--json results.json] [--checks DIR]</c>, its batch form
/// <c>mlcourse grade DIR --jobs N --csv grades.csv [--output FOLDER]</c> (a whole class), and the hidden
/// <c>mlcourse grade-worker</c> the grader starts for the student's code.
/// </summary>
internal static class GradeCommand
{
    public static Command Create()
    {
        var notebook = new Argument<string>("notebook") { Description = "The student's notebook (.ipynb), or a folder of submissions (one file or sub-folder per student)." };
        var quick = new Option<bool>("--quick") { Description = "Quick mode (MLCOURSE_QUICK=1): smaller training, the checks' stated lower bars." };
        var json = new Option<string?>("--json") { Description = "Write the results in Gradescope's results.json schema to this file (and the feedback as .md and .html beside it)." };
        var classroom = new Option<string?>("--classroom") { Description = "Write the results in GitHub Classroom's autograding format to this file (see .github/classroom)." };
        var checks = new Option<string[]>("--checks") { Description = "Extra folder of check files (private checks); repeatable.", AllowMultipleArgumentsPerToken = false };
        var homework = new Option<string?>("--homework") { Description = "Homework id (default: the notebook's file name, e.g. hw-mnist-mlp)." };
        var timeout = new Option<int>("--timeout") { Description = "Per-cell (and per-question check) timeout in seconds; full-mode training on a busy 2-core machine needs many minutes.", DefaultValueFactory = _ => 1800 };
        var totalTimeout = new Option<int>("--total-timeout") { Description = "Timeout of the whole grading in seconds.", DefaultValueFactory = _ => 3600 };
        var memory = new Option<int>("--memory") { Description = "Memory cap of the worker process in MB.", DefaultValueFactory = _ => 4096 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Show the worker's progress." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "Folder of submissions: how many to grade at once (each in its own worker process).", DefaultValueFactory = _ => 1 };
        var csv = new Option<string?>("--csv") { Description = "Folder of submissions: the gradebook CSV (default: grades.csv in the --output folder)." };
        var output = new Option<string?>("--output", "-o") { Description = "Folder of submissions: where each student's JSON, Markdown, HTML and log go (default: DIR-feedback beside DIR)." };
        var command = new Command("grade", "Grade a homework notebook: run it in a separate process, check every question, print the "
                                           + "scores; exit 0 whenever grading completed, whatever the score.")
        {
            notebook, quick, json, classroom, checks, homework, timeout, totalTimeout, memory, verbose, jobs, csv, output,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string path = parse.GetValue(notebook)!;
            string? jsonPath = parse.GetValue(json);
            string? classroomPath = parse.GetValue(classroom);
            var worker = Self.Command("grade-worker");
            var options = new GradeOptions
            {
                Quick = parse.GetValue(quick) || MLCourse.Course.Quick,
                CellTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                TotalTimeout = TimeSpan.FromSeconds(parse.GetValue(totalTimeout)),
                MemoryLimitMb = parse.GetValue(memory),
                CheckFolders = parse.GetValue(checks) ?? [],
                Homework = parse.GetValue(homework),
                WorkerFileName = worker.FileName,
                WorkerArguments = worker.Arguments,
                Log = parse.GetValue(verbose) ? line => Console.Error.WriteLine($"  {line}") : null,
            };
            if (Directory.Exists(path))
            {
                if (jsonPath is not null || classroomPath is not null)
                    Console.Error.WriteLine("note: --json and --classroom apply to one notebook; a folder gets STUDENT.json (and .md, .html) in the --output folder.");
                return await GradeFolderAsync(path, options, parse.GetValue(jobs), parse.GetValue(csv), parse.GetValue(output), cancellationToken);
            }
            Console.WriteLine($"▶ grading {path}{(options.Quick ? " (quick)" : "")}");
            GradeReport report;
            try { report = await Grader.GradeAsync(path, options, cancellationToken); }
            catch (Exception e) when (e is GradingException or CheckFileException)
            {
                Console.Error.WriteLine($"mlcourse grade: {e.Message}");
                if (jsonPath is not null) await File.WriteAllTextAsync(jsonPath, GradeReport.FailureJson($"Grading could not run: {e.Message}"), cancellationToken);
                if (classroomPath is not null) await File.WriteAllTextAsync(classroomPath, GradeReport.ClassroomFailureJson($"Grading could not run: {e.Message}"), cancellationToken);
                return 2;
            }
            Console.Write(report.ToTable());
            if (jsonPath is not null)
            {
                await File.WriteAllTextAsync(jsonPath, report.ToGradescopeJson(), cancellationToken);
                // The feedback a student reads, next to the JSON: results.md and results.html.
                string stem = Path.ChangeExtension(jsonPath, null);
                await File.WriteAllTextAsync(stem + ".md", Feedback.ToMarkdown(report), cancellationToken);
                await File.WriteAllTextAsync(stem + ".html", Feedback.ToHtml(report), cancellationToken);
                Console.WriteLine($"wrote {jsonPath} (and {Path.GetFileName(stem)}.md, {Path.GetFileName(stem)}.html)");
            }
            if (classroomPath is not null)
            {
                await File.WriteAllTextAsync(classroomPath, report.ToClassroomJson(), cancellationToken);
                Console.WriteLine($"wrote {classroomPath}");
            }
            if (report.Failure is not null)
            {
                Console.Error.WriteLine($"mlcourse grade: {report.Failure}");
                return 1;
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Grades every submission in <paramref name="folder"/>, <paramref name="jobs"/> at a time, with a progress bar; writes
    /// each student's files and the gradebook. One submission that cannot be graded gets 0 and a note; exit 0 whenever
    /// the batch completed, 2 when it could not start (no checks, no homework).
    /// </summary>
    private static async Task<int> GradeFolderAsync(string folder, GradeOptions options, int jobs, string? csvPath, string? outputFolder, CancellationToken cancellationToken)
    {
        string root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        string output = Path.GetFullPath(outputFolder ?? root + "-feedback");
        string csv = Path.GetFullPath(csvPath ?? Path.Combine(output, "grades.csv"));
        IReadOnlyList<Submission> submissions;
        try
        {
            submissions = Batch.Find(root, options.Homework, [output, csv]);
            string? homework = options.Homework ?? Batch.GuessHomework(root, submissions, options);
            if (homework is null)
                throw new GradingException($"cannot tell which homework {folder} holds (no notebook name or graded cell id has checks): pass --homework ID.");
            if (options.Homework is null) submissions = Batch.Find(root, homework, [output, csv]);
            options = options with { Homework = homework };
            Batch.Questions(homework, options);
        }
        catch (Exception e) when (e is GradingException or CheckFileException)
        {
            Console.Error.WriteLine($"mlcourse grade: {e.Message}");
            return 2;
        }
        if (submissions.Count == 0)
        {
            Console.Error.WriteLine($"mlcourse grade: {folder} holds no submissions.");
            return 2;
        }
        jobs = Math.Max(1, jobs);
        Console.WriteLine($"▶ grading {submissions.Count} submission(s) of {options.Homework} in {folder}, {jobs} at a time{(options.Quick ? " (quick)" : "")}");
        bool redraw = !Console.IsOutputRedirected;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        IReadOnlyList<BatchResult> results;
        // Not disposed: its last Advance draws the full bar, and Dispose would draw it a second time.
        var bar = new MLCourse.Training.ProgressBar(submissions.Count, "grading");
        {
            results = await Batch.GradeAsync(submissions, options, jobs, result =>
            {
                try { Batch.WriteFiles(result, output); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"mlcourse grade: cannot write the files of {result.Submission.Student}: {e.Message}");
                }
                var r = result.Report;
                string line = $"  {result.Submission.Student,-20} {Feedback.Number(r.Score),5} / {Feedback.Number(r.MaxScore)}  ({r.Elapsed.TotalSeconds:0.0} s)"
                              + (result.Note.Length > 0 ? $"  {Shorten(result.Note, 120)}" : "");
                Console.WriteLine((redraw ? "\r\u001b[K" : "") + line);
                bar.Advance(1, result.Submission.Student);
            }, cancellationToken);
            if (redraw) Console.WriteLine();
        }
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(csv)!);
            await File.WriteAllTextAsync(csv, Batch.ToCsv(results, root), cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The grades are not lost: print the gradebook instead.
            Console.Error.WriteLine($"mlcourse grade: cannot write {csv}: {e.Message}; the gradebook follows.");
            Console.Write(Batch.ToCsv(results, root));
            return 1;
        }
        double mean = results.Average(r => r.Report.Score);
        Console.WriteLine($"graded {results.Count} submission(s) in {clock.Elapsed.TotalSeconds:0.0} s; mean {mean:0.##} of {Feedback.Number(results[0].Report.MaxScore)}; "
                          + $"{results.Count(r => r.Report.Failure is not null)} not gradable");
        Console.WriteLine($"wrote {csv}");
        Console.WriteLine($"wrote {output}{Path.DirectorySeparatorChar} (STUDENT.json, .md, .html, .log)");
        return 0;
    }

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    public static Command CreateWorker()
    {
        var command = new Command("grade-worker", "Internal: the process mlcourse grade runs a student's notebook in.") { Hidden = true };
        command.SetAction(async (_, _) => await GradeWorker.RunAsync());
        return command;
    }
}

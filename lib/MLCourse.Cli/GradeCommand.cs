using System.CommandLine;
using MLCourse.Grading;

namespace MLCourse.Cli;

/// <summary>
/// <c>mlcourse grade NOTEBOOK [--quick] [--json results.json] [--checks DIR]</c>, and the hidden
/// <c>mlcourse grade-worker</c> the grader starts for the student's code.
/// </summary>
internal static class GradeCommand
{
    public static Command Create()
    {
        var notebook = new Argument<string>("notebook") { Description = "The student's notebook (.ipynb)." };
        var quick = new Option<bool>("--quick") { Description = "Quick mode (MLCOURSE_QUICK=1): smaller training, the checks' stated lower bars." };
        var json = new Option<string?>("--json") { Description = "Write the results in Gradescope's results.json schema to this file." };
        var checks = new Option<string[]>("--checks") { Description = "Extra folder of check files (private checks); repeatable.", AllowMultipleArgumentsPerToken = false };
        var homework = new Option<string?>("--homework") { Description = "Homework id (default: the notebook's file name, e.g. hw-mnist-mlp)." };
        var timeout = new Option<int>("--timeout") { Description = "Per-cell (and per-question check) timeout in seconds; full-mode training on a busy 2-core machine needs many minutes.", DefaultValueFactory = _ => 1800 };
        var totalTimeout = new Option<int>("--total-timeout") { Description = "Timeout of the whole grading in seconds.", DefaultValueFactory = _ => 3600 };
        var memory = new Option<int>("--memory") { Description = "Memory cap of the worker process in MB.", DefaultValueFactory = _ => 4096 };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Show the worker's progress." };
        var command = new Command("grade", "Grade a homework notebook: run it in a separate process, check every question, print the "
                                           + "scores; exit 0 whenever grading completed, whatever the score.")
        {
            notebook, quick, json, checks, homework, timeout, totalTimeout, memory, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string path = parse.GetValue(notebook)!;
            string? jsonPath = parse.GetValue(json);
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
            Console.WriteLine($"▶ grading {path}{(options.Quick ? " (quick)" : "")}");
            GradeReport report;
            try { report = await Grader.GradeAsync(path, options, cancellationToken); }
            catch (Exception e) when (e is GradingException or CheckFileException)
            {
                Console.Error.WriteLine($"mlcourse grade: {e.Message}");
                if (jsonPath is not null) await File.WriteAllTextAsync(jsonPath, GradeReport.FailureJson($"Grading could not run: {e.Message}"), cancellationToken);
                return 2;
            }
            Console.Write(report.ToTable());
            if (jsonPath is not null)
            {
                await File.WriteAllTextAsync(jsonPath, report.ToGradescopeJson(), cancellationToken);
                Console.WriteLine($"wrote {jsonPath}");
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

    public static Command CreateWorker()
    {
        var command = new Command("grade-worker", "Internal: the process mlcourse grade runs a student's notebook in.") { Hidden = true };
        command.SetAction(async (_, _) => await GradeWorker.RunAsync());
        return command;
    }
}

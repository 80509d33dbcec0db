using System.CommandLine;
using System.Diagnostics;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary><c>mlcourse run NOTEBOOK|FOLDER… [--quick] [--output DIR] [--timeout SECONDS]</c>.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("notebooks") { Description = "Notebooks (.ipynb) or folders of notebooks, run in name order.", Arity = ArgumentArity.OneOrMore };
        var quick = new Option<bool>("--quick") { Description = "Quick mode (MLCOURSE_QUICK=1): chapters shrink data and epochs to run in seconds." };
        var output = new Option<string?>("--output", "-o") { Description = "Write each executed notebook (with its outputs) into this folder." };
        var timeout = new Option<int?>("--timeout") { Description = "Per-cell timeout in seconds (default: 600 with --quick, 6 hours in full mode)." };
        var totalTimeout = new Option<int?>("--total-timeout") { Description = "Per-notebook timeout in seconds (default: 3600 with --quick, 12 hours in full mode)." };
        var continueOnError = new Option<bool>("--continue-on-error") { Description = "Run every cell even after a failure, and report each failure." };
        var command = new Command("run", "Execute notebooks headless, as the workbook's kernel would; exit code 1 if a cell fails.")
        {
            paths, quick, output, timeout, totalTimeout, continueOnError,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var notebooks = NotebookPaths.Expand(parse.GetValue(paths)!, out var missing);
            foreach (var m in missing) Console.Error.WriteLine($"mlcourse run: {m}: no such notebook or folder.");
            if (missing.Count > 0 || notebooks.Count == 0) return 2;
            bool isQuick = parse.GetValue(quick);
            var options = new RunOptions
            {
                Quick = isQuick,
                CellTimeout = RunLimits.Cell(isQuick, parse.GetValue(timeout)),
                TotalTimeout = RunLimits.Notebook(isQuick, parse.GetValue(totalTimeout)),
                ContinueOnError = parse.GetValue(continueOnError),
                OnCell = report => Console.WriteLine(
                    $"  cell {report.Index,3}  {Symbol(report.Status)}  {report.Result!.Elapsed.TotalSeconds,6:0.00} s"),
            };
            string? outputFolder = parse.GetValue(output);
            int failed = 0;
            var total = Stopwatch.StartNew();
            foreach (var path in notebooks)
            {
                Console.WriteLine($"▶ {path}{(options.Quick ? " (quick)" : "")}");
                Notebook notebook;
                try { notebook = NotebookFiles.Load(path); }
                catch (NotebookFormatException e)
                {
                    Console.Error.WriteLine($"✗ {e.Message}");
                    failed++;
                    continue;
                }
                // In a worker process: a cell that crashes it (SIGSEGV in libtorch, an abort, a kill for memory) fails
                // that cell; the cells before it keep their outputs and the next notebook runs.
                var report = await NotebookWorker.RunAsync(notebook, options, Self.Command("run-worker"), cancellationToken);
                if (outputFolder is not null)
                {
                    string target = Path.Combine(outputFolder, Path.ChangeExtension(Path.GetFileName(path), ".ipynb"));
                    notebook.Save(target);
                    Console.WriteLine($"  wrote {target}");
                }
                if (report.Succeeded)
                {
                    Console.WriteLine($"✓ {path}: {report.Cells.Count} code cells in {report.Elapsed.TotalSeconds:0.0} s");
                }
                else
                {
                    failed++;
                    foreach (var line in report.Diagnoses) Console.Error.WriteLine($"✗ {line}");
                    int notRun = report.Cells.Count(c => c.Status is null);
                    if (notRun > 0) Console.Error.WriteLine($"  {notRun} later cell(s) not run (use --continue-on-error to run them anyway).");
                }
            }
            Console.WriteLine($"{notebooks.Count - failed} of {notebooks.Count} notebook(s) ran cleanly in {total.Elapsed.TotalSeconds:0.0} s.");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    public static Command CreateWorker()
    {
        var command = new Command("run-worker", "Internal: the process mlcourse run runs one notebook in.") { Hidden = true };
        command.SetAction(async (_, _) => await NotebookWorker.ServeAsync());
        return command;
    }

    private static string Symbol(CellStatus? status) => status switch
    {
        CellStatus.Ok => "ok",
        CellStatus.Error => "FAILED",
        CellStatus.TimedOut => "TIMED OUT",
        CellStatus.Interrupted => "INTERRUPTED",
        CellStatus.Crashed => "CRASHED",
        _ => "not run",
    };
}

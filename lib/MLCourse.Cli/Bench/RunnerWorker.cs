using System.Diagnostics;
using MLCourse.Notebooks;

namespace MLCourse.Cli.Bench;

/// <summary>Runs the reference notebook cell by cell in this (fresh) process and times compile and execution.</summary>
internal static class RunnerWorker
{
    public static async Task<RunnerResult> RunAsync(WorkerSpec spec)
    {
        var clock = Stopwatch.StartNew();
        var path = Path.GetFullPath(spec.Notebook!);
        var notebook = NotebookFiles.Load(path);
        var cells = new List<CellTiming>();
        var options = new RunOptions
        {
            Quick = true,
            OnCell = report =>
            {
                var r = report.Result!;
                double total = r.Elapsed.TotalMilliseconds, compile = r.CompileTime.TotalMilliseconds;
                cells.Add(new CellTiming(report.Index, compile, total - compile, total, r.Status.ToString()));
            },
        };
        var run = await NotebookRunner.RunAsync(notebook, options);
        if (!run.Succeeded) throw new InvalidOperationException(string.Join(Environment.NewLine, run.Diagnoses));
        return new RunnerResult { Notebook = spec.Notebook!, Cells = cells, ProcessSeconds = clock.Elapsed.TotalSeconds };
    }
}

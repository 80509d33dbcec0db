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
        // Pass 1 is what a fresh kernel does (Roslyn and TorchSharp are JIT-compiled as the cells need them);
        // pass 2 runs the same notebook in a new session of the same process, as after a kernel restart.
        var first = await RunOnceAsync(path);
        var second = await RunOnceAsync(path);
        return new RunnerResult { Notebook = spec.Notebook!, Cells = first, SecondPass = second, ProcessSeconds = clock.Elapsed.TotalSeconds };
    }

    private static async Task<List<CellTiming>> RunOnceAsync(string path)
    {
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
        return cells;
    }
}

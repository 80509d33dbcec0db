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
        var small = await RunSmallCellsAsync(Path.GetDirectoryName(path)!);
        return new RunnerResult { Notebook = spec.Notebook!, Cells = first, SecondPass = second, SmallCells = small, ProcessSeconds = clock.Elapsed.TotalSeconds };
    }

    /// <summary>
    /// The engine's own cost per cell: 40 small cells of the kinds students type between prose (a tensor op and a
    /// print, a trailing value, a chart, a loop), in one session after the notebook's, each timed compile + execute.
    /// </summary>
    private static async Task<List<CellTiming>> RunSmallCellsAsync(string directory)
    {
        using var session = new ScriptSession(new SessionOptions { WorkingDirectory = directory, Name = "small-cells" });
        var sink = new OutputCollector();
        var setup = await session.ExecuteAsync("using MLCourse; using MLCourse.Plots; using TorchSharp;", sink);
        if (setup.Status != CellStatus.Ok) throw new InvalidOperationException("small cells: " + setup.Error?.Value);
        string[] kinds =
        [
            "var t{0} = torch.randn(64, 32);\nConsole.WriteLine($\"sum {{t{0}.sum().item<float>():F3}}\");",
            "var w{0} = torch.ones(32, 10);\nt{0}.matmul(w{0}).shape",
            "double[] xs{0} = Enumerable.Range(0, 50).Select(k => k * 0.1).ToArray();\nCharts.Line(xs{0}, xs{0}.Select(Math.Sin), \"sin\")",
            "int count{0} = 0;\nfor (int k = 0; k < 1000; k++) count{0} += k % 7;\ncount{0}",
        ];
        var cells = new List<CellTiming>();
        for (int i = 0; i < 40; i++)
        {
            var result = await session.ExecuteAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, kinds[i % kinds.Length], i / kinds.Length), sink);
            if (result.Status != CellStatus.Ok) throw new InvalidOperationException($"small cell {i}: {result.Error?.Value}");
            double total = result.Elapsed.TotalMilliseconds, compile = result.CompileTime.TotalMilliseconds;
            cells.Add(new CellTiming(i + 1, compile, total - compile, total, result.Status.ToString()));
        }
        return cells;
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

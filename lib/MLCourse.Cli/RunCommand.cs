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
        var jobs = new Option<int?>("--jobs", "-j")
        {
            Description = "Notebooks run at once, each in its own worker process (default: one per core, at most 4, for a folder; 1 "
                          + "for a single notebook). With more than one, each worker gets cores / jobs threads unless OMP_NUM_THREADS "
                          + "is set, and a notebook's lines are printed when it ends.",
        };
        var fresh = new Option<bool>("--fresh-process")
        {
            Description = "A new worker process for every notebook. By default a worker runs several notebooks in turn (faster) and "
                          + "puts back, between them, the state a notebook can change in its process (formatters, random generator, "
                          + "threads, working directory); use this when a notebook changes something else process-wide.",
        };
        var command = new Command("run", "Execute notebooks headless, as the workbook's kernel would; exit code 1 if a cell fails.")
        {
            paths, quick, output, timeout, totalTimeout, continueOnError, jobs, fresh,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var notebooks = NotebookPaths.Expand(parse.GetValue(paths)!, out var missing);
            foreach (var m in missing) Console.Error.WriteLine($"mlcourse run: {m}: no such notebook or folder.");
            if (missing.Count > 0 || notebooks.Count == 0) return 2;
            bool isQuick = parse.GetValue(quick);
            int parallel = Math.Clamp(parse.GetValue(jobs) ?? DefaultJobs(notebooks.Count), 1, Math.Max(1, notebooks.Count));
            if (parallel > 1 && Environment.GetEnvironmentVariable("OMP_NUM_THREADS") is null)
                Environment.SetEnvironmentVariable("OMP_NUM_THREADS", Math.Max(1, Environment.ProcessorCount / parallel).ToString());
            string? outputFolder = parse.GetValue(output);
            bool freshProcess = parse.GetValue(fresh);
            var total = Stopwatch.StartNew();
            var results = new (string Path, bool Succeeded, double Seconds)[notebooks.Count];
            var console = new object();
            int next = -1, workersStarted = 0;
            // Each slot keeps one worker process and hands it notebook after notebook (a new one after a crash or a timeout,
            // or for every notebook with --fresh-process).
            var slots = Enumerable.Range(0, parallel).Select(async _ =>
            {
                NotebookWorkerProcess? worker = null;
                try
                {
                    for (int i = Interlocked.Increment(ref next); i < notebooks.Count; i = Interlocked.Increment(ref next))
                    {
                        if (worker is not null && (freshProcess || !worker.IsReusable))
                        {
                            await worker.DisposeAsync();
                            worker = null;
                        }
                        if (worker is null)
                        {
                            worker = NotebookWorkerProcess.Start(Self.Command("run-worker"), Directory.GetCurrentDirectory());
                            Interlocked.Increment(ref workersStarted);
                        }
                        // One notebook at a time streams its lines; several at once each collect theirs and print them when done.
                        var log = new NotebookLog(parallel == 1, console);
                        results[i] = await RunOneAsync(notebooks[i], isQuick, parse.GetValue(timeout), parse.GetValue(totalTimeout),
                                                       parse.GetValue(continueOnError), outputFolder, log, worker, cancellationToken);
                        log.Flush();
                    }
                }
                finally
                {
                    if (worker is not null) await worker.DisposeAsync();
                }
            }).ToList();
            await Task.WhenAll(slots);
            int failed = results.Count(r => !r.Succeeded);
            if (notebooks.Count > 1)
            {
                Console.WriteLine("Time per notebook:");
                foreach (var (path, succeeded, seconds) in results)
                    Console.WriteLine($"  {seconds,7:0.0} s  {(succeeded ? "✓" : "✗")} {path}");
            }
            string how = parallel > 1 ? $"{parallel} at a time, {Environment.GetEnvironmentVariable("OMP_NUM_THREADS")} thread(s) each, " : "";
            Console.WriteLine($"{notebooks.Count - failed} of {notebooks.Count} notebook(s) ran cleanly in {total.Elapsed.TotalSeconds:0.0} s "
                              + $"({how}{workersStarted} worker process(es)).");
            return failed == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Runs one notebook in a worker process; returns whether every cell ran and how long it took.</summary>
    private static async Task<(string, bool, double)> RunOneAsync(string path, bool quick, int? cellTimeout, int? totalTimeout,
        bool continueOnError, string? outputFolder, NotebookLog log, NotebookWorkerProcess worker, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var options = new RunOptions
        {
            Quick = quick,
            CellTimeout = RunLimits.Cell(quick, cellTimeout),
            TotalTimeout = RunLimits.Notebook(quick, totalTimeout),
            ContinueOnError = continueOnError,
            OnCell = report => log.Out($"  cell {report.Index,3}  {Symbol(report.Status)}  {report.Result!.Elapsed.TotalSeconds,6:0.00} s"),
        };
        log.Out($"▶ {path}{(quick ? " (quick)" : "")}");
        Notebook notebook;
        try { notebook = NotebookFiles.Load(path); }
        catch (NotebookFormatException e)
        {
            log.Error($"✗ {e.Message}");
            return (path, false, clock.Elapsed.TotalSeconds);
        }
        // In a worker process: a cell that crashes it (SIGSEGV in libtorch, an abort, a kill for memory) fails
        // that cell; the cells before it keep their outputs and the next notebook runs.
        var report = await worker.RunAsync(notebook, options, cancellationToken);
        if (outputFolder is not null)
        {
            string target = Path.Combine(outputFolder, Path.ChangeExtension(Path.GetFileName(path), ".ipynb"));
            notebook.Save(target);
            log.Out($"  wrote {target}");
        }
        if (report.Succeeded)
        {
            log.Out($"✓ {path}: {report.Cells.Count} code cells in {report.Elapsed.TotalSeconds:0.0} s");
            return (path, true, clock.Elapsed.TotalSeconds);
        }
        foreach (var line in report.Diagnoses) log.Error($"✗ {line}");
        int notRun = report.Cells.Count(c => c.Status is null);
        if (notRun > 0) log.Error($"  {notRun} later cell(s) not run (use --continue-on-error to run them anyway).");
        return (path, false, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Notebooks at once when --jobs is not given: one for a single notebook (it gets every core's threads), else one per
    /// core, at most 4 (each worker holds its own copy of libtorch and of its notebook's data: 0.4–2 GB).
    /// </summary>
    private static int DefaultJobs(int notebooks) => notebooks <= 1 ? 1 : Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>A notebook's lines: written at once (one notebook at a time) or kept and written together when it ends.</summary>
    private sealed class NotebookLog(bool stream, object console)
    {
        private readonly List<(bool Error, string Line)> lines = [];

        public void Out(string line) => Add(false, line);

        public void Error(string line) => Add(true, line);

        private void Add(bool error, string line)
        {
            if (stream) (error ? Console.Error : Console.Out).WriteLine(line);
            else lock (lines) lines.Add((error, line));
        }

        public void Flush()
        {
            if (stream) return;
            lock (console)
                lock (lines)
                    foreach (var (error, line) in lines) (error ? Console.Error : Console.Out).WriteLine(line);
        }
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

using System.Diagnostics;

namespace MLCourse.Notebooks;

/// <summary>How the headless runner runs a notebook.</summary>
public sealed record RunOptions
{
    /// <summary>Longest one cell may run (default 10 minutes).</summary>
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest the whole notebook may run (default 60 minutes).</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Run every cell even after one fails (each failure is reported).</summary>
    public bool ContinueOnError { get; init; }

    /// <summary>Sets <c>MLCOURSE_QUICK=1</c> for the run, so chapters shrink their work.</summary>
    public bool Quick { get; init; }

    /// <summary>Called before each code cell runs, with its 1-based index among all cells.</summary>
    public Action<int>? OnCellStart { get; init; }

    /// <summary>Called after each code cell (progress reporting in the CLI).</summary>
    public Action<CellReport>? OnCell { get; init; }
}

/// <summary>What happened to one code cell.</summary>
/// <param name="Index">1-based position among all cells of the notebook.</param>
/// <param name="Status">How it ended, or null when it was not run.</param>
/// <param name="Result">The engine's result, when it ran.</param>
public sealed record CellReport(int Index, CellStatus? Status, CellResult? Result);

/// <summary>The outcome of running one notebook.</summary>
/// <param name="Notebook">The notebook, its cells now holding the new outputs.</param>
/// <param name="Cells">One report per code cell.</param>
/// <param name="Elapsed">Wall time of the whole run.</param>
public sealed record RunReport(Notebook Notebook, IReadOnlyList<CellReport> Cells, TimeSpan Elapsed)
{
    /// <summary>True when every code cell ran without error.</summary>
    public bool Succeeded => Cells.All(c => c.Status == CellStatus.Ok);

    /// <summary>The failed cells.</summary>
    public IEnumerable<CellReport> Failures => Cells.Where(c => c.Status is not (CellStatus.Ok or null));

    /// <summary>One line per failure: <c>notebook.ipynb: cell 5, line 3: error CS0103: …</c>.</summary>
    public IEnumerable<string> Diagnoses => Failures.Select(f => $"{Notebook.Path ?? "notebook"}: cell {f.Index}, {f.Result!.Diagnosis}");
}

/// <summary>
/// Runs a notebook headless, top to bottom, in one <see cref="ScriptSession"/> whose working directory is the
/// notebook's folder, and writes every output back into the cells (as a Jupyter kernel would).
/// </summary>
public static class NotebookRunner
{
    private static readonly SemaphoreSlim oneAtATime = new(1, 1);

    /// <summary>Runs <paramref name="notebook"/>; stops at the first failure unless <see cref="RunOptions.ContinueOnError"/>.</summary>
    public static async Task<RunReport> RunAsync(Notebook notebook, RunOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RunOptions();
        // The working directory and MLCOURSE_QUICK are process-wide: run one notebook at a time.
        await oneAtATime.WaitAsync(cancellationToken).ConfigureAwait(false);
        string previousDirectory = Directory.GetCurrentDirectory();
        string? previousQuick = Environment.GetEnvironmentVariable("MLCOURSE_QUICK");
        try
        {
            string folder = Path.GetDirectoryName(notebook.Path ?? Path.Combine(previousDirectory, "notebook.ipynb"))!;
            Directory.SetCurrentDirectory(folder);
            if (options.Quick) Environment.SetEnvironmentVariable("MLCOURSE_QUICK", "1");
            return await RunCellsAsync(notebook, folder, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Directory.SetCurrentDirectory(previousDirectory);
            Environment.SetEnvironmentVariable("MLCOURSE_QUICK", previousQuick);
            oneAtATime.Release();
        }
    }

    private static async Task<RunReport> RunCellsAsync(Notebook notebook, string folder, RunOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string name = Path.GetFileName(notebook.Path ?? "notebook.ipynb");
        using var session = new ScriptSession(new SessionOptions { WorkingDirectory = folder, CellTimeout = options.CellTimeout, Name = name });
        var reports = new List<CellReport>();
        bool stopped = false;
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (cell.Kind != CellKind.Code) continue;
            cell.Outputs.Clear();
            cell.ExecutionCount = null;
            if (stopped)
            {
                reports.Add(new CellReport(i + 1, null, null));
                continue;
            }
            var left = options.TotalTimeout - clock.Elapsed;
            var sink = new OutputCollector();
            CellResult result;
            if (left <= TimeSpan.Zero)
            {
                string message = $"the notebook ran longer than its {options.TotalTimeout.TotalMinutes:0.#} min total timeout.";
                result = new CellResult(CellStatus.TimedOut, 0, new ErrorOutput("TimeoutException", message, [message]), null, TimeSpan.Zero);
            }
            else
            {
                options.OnCellStart?.Invoke(i + 1);
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (left < TimeSpan.FromDays(24)) limit.CancelAfter(left);   // the total timeout interrupts a running cell, not only the next one
                result = await session.ExecuteAsync(cell.Source, sink, $"cell {i + 1}", limit.Token).ConfigureAwait(false);
                if (result.Status == CellStatus.Interrupted && limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
                {
                    string message = $"the notebook ran longer than its {options.TotalTimeout.TotalMinutes:0.#} min total timeout and this cell was stopped.";
                    result = result with { Status = CellStatus.TimedOut, Error = new ErrorOutput("TimeoutException", message, [$"{name}: cell {i + 1}: {message}"]) };
                }
            }
            cell.Outputs.AddRange(sink.Outputs);
            if (result.Error is { } error) cell.Outputs.Add(error);
            cell.ExecutionCount = result.ExecutionCount;
            var report = new CellReport(i + 1, result.Status, result);
            reports.Add(report);
            options.OnCell?.Invoke(report);
            if (result.Status != CellStatus.Ok && (!options.ContinueOnError || session.IsBroken)) stopped = true;
        }
        ChartOutputs.EmbedPlotlyOnce(notebook);   // the executed notebook draws its charts offline
        return new RunReport(notebook, reports, clock.Elapsed);
    }
}

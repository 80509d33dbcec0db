using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLCourse.Notebooks;

/// <summary>
/// One worker process (see <see cref="NotebookWorker"/>) that runs notebooks one after another, so that a folder of
/// notebooks pays for starting .NET, loading libtorch and warming the C# compiler once per worker rather than once per
/// notebook. Between notebooks the worker puts back the process-wide state a notebook may change (formatters,
/// libtorch's generator, gradient mode, threads, working directory, <c>MLCOURSE_QUICK</c>); a notebook with a cell
/// that crashed, timed out or was interrupted ends its worker (<see cref="IsReusable"/> turns false), and the caller
/// starts a fresh one for the next.
/// </summary>
public sealed class NotebookWorkerProcess : IAsyncDisposable
{
    private static int warned;

    private readonly Process process;
    private readonly string nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private readonly Task stdout, stderr, exited;
    private readonly StringBuilder stderrTail = new();
    private volatile Run? current;

    private NotebookWorkerProcess(Process process)
    {
        this.process = process;
        exited = process.WaitForExitAsync(CancellationToken.None);
        stdout = Task.Run(ReadReportsAsync, CancellationToken.None);
        stderr = Task.Run(ReadErrorsAsync, CancellationToken.None);
    }

    /// <summary>False once the worker died, was killed or said it will not take another notebook.</summary>
    public bool IsReusable { get; private set; } = true;

    /// <summary>How many notebooks this worker has been given.</summary>
    public int NotebooksRun { get; private set; }

    /// <summary>
    /// Starts a worker with <paramref name="command"/> in <paramref name="workingDirectory"/> (each notebook then runs in its
    /// own folder), in its own PID namespace where Linux allows: whatever a notebook starts, detached children included,
    /// dies with the worker.
    /// </summary>
    public static NotebookWorkerProcess Start(WorkerCommand command, string workingDirectory)
    {
        var (start, notes) = ProcessSandbox.Wrap(command.StartInfo(workingDirectory), new SandboxOptions());
        if (OperatingSystem.IsLinux() && notes.Count > 0 && Interlocked.Exchange(ref warned, 1) == 0)
            Console.Error.WriteLine($"note: {notes[0]}");
        var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {command.FileName}.");
        return new NotebookWorkerProcess(process);
    }

    /// <summary>
    /// Runs <paramref name="notebook"/> (its <see cref="Notebook.Path"/> names its working directory) in this worker; its
    /// cells get the outputs the worker sent back, as with <see cref="NotebookRunner.RunAsync"/>. A crash of the worker is
    /// the failure of the cell it was running.
    /// </summary>
    public async Task<RunReport> RunAsync(Notebook notebook, RunOptions options, CancellationToken cancellationToken = default)
    {
        if (!IsReusable) throw new InvalidOperationException("This worker process has ended; start a new one for the next notebook.");
        NotebooksRun++;
        var clock = Stopwatch.StartNew();
        string path = Path.GetFullPath(notebook.Path ?? Path.Combine(Directory.GetCurrentDirectory(), "notebook.ipynb"));
        var config = new NotebookWorker.Config(nonce, path, notebook.ToJson(), options.Quick, options.CellTimeout.TotalSeconds,
                                               options.TotalTimeout.TotalSeconds, options.ContinueOnError);
        var run = new Run(notebook, options);
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            if (notebook.Cells[i].Kind != CellKind.Code) continue;
            notebook.Cells[i].Outputs.Clear();
            notebook.Cells[i].ExecutionCount = null;
            run.Reports[i + 1] = new CellReport(i + 1, null, null);
        }
        lock (stderrTail) stderrTail.Clear();
        current = run;
        try
        {
            await process.StandardInput.WriteLineAsync(JsonSerializer.Serialize(config, NotebookWorker.Json));
            await process.StandardInput.FlushAsync(CancellationToken.None);
        }
        catch (IOException) { /* the worker died; its exit code tells why */ }

        // The worker enforces the timeouts itself; this only catches a worker that cannot (stuck in native code).
        var backstop = options.TotalTimeout + options.CellTimeout + TimeSpan.FromMinutes(1);
        bool killed = false;
        try
        {
            var ended = Task.WhenAny(run.Done.Task, exited);
            await (backstop < TimeSpan.FromDays(24) ? ended.WaitAsync(backstop, cancellationToken) : ended.WaitAsync(cancellationToken));
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            killed = true;
            Kill();
        }
        if (!run.Done.Task.IsCompleted)
        {
            // It exited (or was killed): the last lines may still be in the pipe. A process the notebook started may hold
            // the pipes open, so do not wait for them forever.
            await exited;
            await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }
        current = null;
        bool done = run.Done.Task.IsCompletedSuccessfully;
        if (!done || !run.Done.Task.Result) IsReusable = false;
        if (!done) ReportDeath(run, path, killed, cancellationToken.IsCancellationRequested);
        ChartOutputs.EmbedPlotlyOnce(notebook);   // the executed notebook draws its charts offline
        return new RunReport(notebook, run.Reports.Values.ToList(), clock.Elapsed);
    }

    /// <summary>The worker died or was killed before it said the notebook was done: that costs the cell it was running.</summary>
    private void ReportDeath(Run run, string path, bool killed, bool cancelled)
    {
        string tail;
        lock (stderrTail) tail = stderrTail.ToString();
        string why = killed ? (cancelled ? "was cancelled" : "ran past the notebook's total timeout and was killed")
                            : $"died ({NotebookWorker.Describe(process.HasExited ? process.ExitCode : -1)}{CrashHint.Explain(tail)})";
        int? victim = run.Running ?? run.Reports.Values.FirstOrDefault(r => r.Status is null)?.Index;
        if (victim is not int index) return;
        string message = run.Running is null
            ? $"the process running the notebook {why} before this cell ran."
            : $"the process running the notebook {why} while this cell ran; the cells before it kept their outputs.";
        var error = new ErrorOutput("ProcessCrash", message, [$"{Path.GetFileName(path)}: cell {index}: {message}"]);
        var status = killed && !cancelled ? CellStatus.TimedOut : CellStatus.Crashed;
        var report = new CellReport(index, status, new CellResult(status, 0, error, null, TimeSpan.Zero));
        run.Notebook.Cells[index - 1].Outputs.Add(error);
        run.Reports[index] = report;
        run.Options.OnCell?.Invoke(report);
    }

    private async Task ReadReportsAsync()
    {
        string prefix = nonce + " ";
        while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
        {
            if (!line.StartsWith(prefix, StringComparison.Ordinal))
            {
                Console.Out.WriteLine(line);   // the notebook's own output outside any cell
                continue;
            }
            if (current is not { } run) continue;
            int space = line.IndexOf(' ', prefix.Length);
            string kind = space < 0 ? line[prefix.Length..] : line[prefix.Length..space];
            string body = space < 0 ? "{}" : line[(space + 1)..];
            switch (kind)
            {
                case "cell-start":
                    run.Running = JsonNode.Parse(body)!["index"]!.GetValue<int>();
                    break;
                case "cell-end":
                    var report = NotebookWorker.ReadCell(JsonNode.Parse(body)!.AsObject(), run.Notebook);
                    run.Reports[report.Index] = report;
                    run.Running = null;
                    run.Options.OnCell?.Invoke(report);
                    break;
                case "done":
                    run.Done.TrySetResult(JsonNode.Parse(body)?["reusable"]?.GetValue<bool>() ?? false);
                    break;
            }
        }
    }

    private async Task ReadErrorsAsync()
    {
        var buffer = new char[4096];
        int n;
        while ((n = await process.StandardError.ReadAsync(buffer, CancellationToken.None)) > 0)
            lock (stderrTail)
            {
                CrashHint.Append(stderrTail, buffer, n);
            }
    }

    private void Kill()
    {
        IsReusable = false;
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    /// <summary>Closes the worker's input (it exits when its notebook ends) and waits a little for it; kills it otherwise.</summary>
    public async ValueTask DisposeAsync()
    {
        IsReusable = false;
        try { process.StandardInput.Close(); }
        catch (IOException) { }
        try { await exited.WaitAsync(TimeSpan.FromSeconds(10)); }
        catch (TimeoutException) { Kill(); await exited; }
        await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(5)));
        process.Dispose();
    }

    /// <summary>One notebook's run: its cells' reports so far, the cell running now, and whether the worker said done.</summary>
    private sealed class Run(Notebook notebook, RunOptions options)
    {
        public Notebook Notebook { get; } = notebook;
        public RunOptions Options { get; } = options;
        public SortedDictionary<int, CellReport> Reports { get; } = [];
        public int? Running { get; set; }
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

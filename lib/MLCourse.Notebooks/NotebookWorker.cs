using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MLCourse.Notebooks;

/// <summary>How to start a process that serves <see cref="NotebookWorker.ServeAsync"/> (a front end's own hidden verb).</summary>
/// <param name="FileName">The program, e.g. the <c>mlcourse</c> executable or <c>dotnet</c>.</param>
/// <param name="Arguments">Its arguments, e.g. <c>["exec", "MLCourse.Cli.dll", "run-worker"]</c>.</param>
public sealed record WorkerCommand(string FileName, IReadOnlyList<string> Arguments)
{
    /// <summary>How a worker process starts: standard streams redirected (UTF-8), in <paramref name="workingDirectory"/>.</summary>
    public ProcessStartInfo StartInfo(string workingDirectory)
    {
        var start = new ProcessStartInfo(FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in Arguments) start.ArgumentList.Add(argument);
        return start;
    }
}

/// <summary>
/// Runs a notebook in a separate worker process, so that what a cell does to its process — a native crash
/// (SIGSEGV in libtorch), an abort, a stack overflow, a kill for memory — costs that cell, not the caller: the crash is
/// reported as that cell's failure (<see cref="CellStatus.Crashed"/>, with the signal), the cells before it keep their
/// outputs, and the caller goes on. The worker runs <see cref="NotebookRunner"/> and reports each cell, with its
/// outputs, as a nonce-tagged line on its standard output; the caller's <see cref="RunOptions"/> callbacks run in the
/// caller's process.
/// </summary>
public static class NotebookWorker
{
    private static readonly JsonSerializerOptions json = new(JsonSerializerDefaults.Web);
    private static int warned;

    private sealed record Config(string Nonce, string Path, string Json, bool Quick, double CellTimeoutSeconds,
                                 double TotalTimeoutSeconds, bool ContinueOnError);

    /// <summary>
    /// Runs <paramref name="notebook"/> (its <see cref="Notebook.Path"/> names the working directory) in a worker started
    /// with <paramref name="command"/>; its cells get the outputs the worker sent back, as with <see cref="NotebookRunner.RunAsync"/>.
    /// </summary>
    public static async Task<RunReport> RunAsync(Notebook notebook, RunOptions options, WorkerCommand command, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        string path = System.IO.Path.GetFullPath(notebook.Path ?? System.IO.Path.Combine(Directory.GetCurrentDirectory(), "notebook.ipynb"));
        var config = new Config(Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), path, notebook.ToJson(), options.Quick,
                                options.CellTimeout.TotalSeconds, options.TotalTimeout.TotalSeconds, options.ContinueOnError);
        var reports = new SortedDictionary<int, CellReport>();
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            if (notebook.Cells[i].Kind != CellKind.Code) continue;
            notebook.Cells[i].Outputs.Clear();
            notebook.Cells[i].ExecutionCount = null;
            reports[i + 1] = new CellReport(i + 1, null, null);
        }

        // Its own PID namespace (Linux, where unshare works): whatever the notebook starts — detached children included —
        // dies with the worker, so nothing it left running outlives `mlcourse run`.
        var (start, notes) = ProcessSandbox.Wrap(command.StartInfo(System.IO.Path.GetDirectoryName(path)!), new SandboxOptions());
        if (OperatingSystem.IsLinux() && notes.Count > 0 && Interlocked.Exchange(ref warned, 1) == 0)
            Console.Error.WriteLine($"note: {notes[0]}");
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {command.FileName}.");
        try
        {
            await process.StandardInput.WriteAsync(JsonSerializer.Serialize(config, json));
            process.StandardInput.Close();
        }
        catch (IOException) { /* the worker died at once; its exit code tells why */ }

        int? running = null;
        bool done = false;
        string prefix = config.Nonce + " ";
        var stdout = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
            {
                if (!line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    Console.Out.WriteLine(line);   // the notebook's own output outside any cell
                    continue;
                }
                int space = line.IndexOf(' ', prefix.Length);
                string kind = space < 0 ? line[prefix.Length..] : line[prefix.Length..space];
                string body = space < 0 ? "{}" : line[(space + 1)..];
                switch (kind)
                {
                    case "cell-start":
                        running = JsonNode.Parse(body)!["index"]!.GetValue<int>();
                        break;
                    case "cell-end":
                        var report = ReadCell(JsonNode.Parse(body)!.AsObject(), notebook);
                        reports[report.Index] = report;
                        running = null;
                        options.OnCell?.Invoke(report);
                        break;
                    case "done":
                        done = true;
                        break;
                }
            }
        }, CancellationToken.None);
        var stderrTail = new StringBuilder();
        var stderr = Task.Run(async () =>
        {
            var buffer = new char[4096];
            int n;
            while ((n = await process.StandardError.ReadAsync(buffer, CancellationToken.None)) > 0)
                lock (stderrTail)
                {
                    stderrTail.Append(buffer, 0, n);
                    if (stderrTail.Length > 8192) stderrTail.Remove(0, stderrTail.Length - 4096);
                }
        }, CancellationToken.None);

        // The worker enforces the timeouts itself; this only catches a worker that cannot (stuck in native code).
        var backstop = options.TotalTimeout + options.CellTimeout + TimeSpan.FromMinutes(1);
        bool killed = false;
        try { await process.WaitForExitAsync(cancellationToken).WaitAsync(backstop, cancellationToken); }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            killed = true;
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
        }
        await process.WaitForExitAsync(CancellationToken.None);
        // A process the notebook started may hold the pipes open: do not wait for it forever.
        await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));

        if (!done)
        {
            string tail;
            lock (stderrTail) tail = stderrTail.ToString();
            string why = killed ? (cancellationToken.IsCancellationRequested ? "was cancelled" : "ran past the notebook's total timeout and was killed")
                                : $"died ({Describe(process.ExitCode)}{Hint(tail)})";
            int? victim = running ?? reports.Values.FirstOrDefault(r => r.Status is null)?.Index;
            if (victim is int index)
            {
                string message = running is null
                    ? $"the process running the notebook {why} before this cell ran."
                    : $"the process running the notebook {why} while this cell ran; the cells before it kept their outputs.";
                var error = new ErrorOutput("ProcessCrash", message, [$"{System.IO.Path.GetFileName(path)}: cell {index}: {message}"]);
                var status = killed && !cancellationToken.IsCancellationRequested ? CellStatus.TimedOut : CellStatus.Crashed;
                var report = new CellReport(index, status, new CellResult(status, 0, error, null, TimeSpan.Zero));
                notebook.Cells[index - 1].Outputs.Add(error);
                reports[index] = report;
                options.OnCell?.Invoke(report);
            }
        }
        ChartOutputs.EmbedPlotlyOnce(notebook);   // the executed notebook draws its charts offline
        return new RunReport(notebook, reports.Values.ToList(), clock.Elapsed);
    }

    /// <summary>
    /// The worker's side: reads its configuration from standard input, runs the notebook with <see cref="NotebookRunner"/>
    /// and reports every cell on standard output. Returns the exit code (0 when the run finished, whatever the cells did).
    /// </summary>
    public static async Task<int> ServeAsync()
    {
        string input = await new StreamReader(Console.OpenStandardInput()).ReadToEndAsync();
        var config = JsonSerializer.Deserialize<Config>(input, json) ?? throw new InvalidOperationException("run-worker: no configuration on standard input.");
        var channel = Console.OpenStandardOutput();
        var gate = new object();
        void Send(string kind, JsonNode body)
        {
            byte[] line = Encoding.UTF8.GetBytes($"{config.Nonce} {kind} {body.ToJsonString()}\n");
            lock (gate)
            {
                channel.Write(line);
                channel.Flush();
            }
        }

        var notebook = Notebook.Parse(config.Json, System.IO.Path.GetFileName(config.Path));
        notebook.Path = config.Path;
        var options = new RunOptions
        {
            Quick = config.Quick,
            CellTimeout = TimeSpan.FromSeconds(config.CellTimeoutSeconds),
            TotalTimeout = TimeSpan.FromSeconds(config.TotalTimeoutSeconds),
            ContinueOnError = config.ContinueOnError,
            OnCellStart = index => Send("cell-start", new JsonObject { ["index"] = index }),
            OnCell = report => Send("cell-end", WriteCell(report, notebook.Cells[report.Index - 1])),
        };
        await NotebookRunner.RunAsync(notebook, options);
        Send("done", new JsonObject());
        return 0;
    }

    private static JsonObject WriteCell(CellReport report, Cell cell) => new()
    {
        ["index"] = report.Index,
        ["status"] = report.Status?.ToString(),
        ["executionCount"] = cell.ExecutionCount,
        ["line"] = report.Result?.Line,
        ["seconds"] = report.Result?.Elapsed.TotalSeconds ?? 0,
        ["compileSeconds"] = report.Result?.CompileTime.TotalSeconds ?? 0,
        ["error"] = report.Result?.Error is { } error ? Notebook.WriteOutput(error) : null,
        ["outputs"] = new JsonArray(cell.Outputs.Select(o => (JsonNode?)Notebook.WriteOutput(o)).ToArray()),
    };

    private static CellReport ReadCell(JsonObject o, Notebook notebook)
    {
        int index = o["index"]!.GetValue<int>();
        var cell = notebook.Cells[index - 1];
        cell.Outputs.Clear();
        foreach (var output in o["outputs"]!.AsArray().OfType<JsonObject>())
            if (Notebook.ReadOutput(output) is { } read) cell.Outputs.Add(read);
        cell.ExecutionCount = o["executionCount"]?.GetValue<int>();
        var status = Enum.Parse<CellStatus>(o["status"]!.GetValue<string>());
        var error = o["error"] is JsonObject e ? Notebook.ReadOutput(e) as ErrorOutput : null;
        var result = new CellResult(status, cell.ExecutionCount ?? 0, error, o["line"]?.GetValue<int>(), TimeSpan.FromSeconds(o["seconds"]!.GetValue<double>()))
        {
            CompileTime = TimeSpan.FromSeconds(o["compileSeconds"]!.GetValue<double>()),
        };
        return new CellReport(index, status, result);
    }

    /// <summary><c>signal 11 (SIGSEGV, a native crash)</c> for a process killed by a signal (exit code 128 + n), else the exit code.</summary>
    public static string Describe(int exitCode) => exitCode switch
    {
        134 => "signal 6 (SIGABRT, the process aborted)",
        137 => "signal 9 (SIGKILL: killed, e.g. by the out-of-memory killer)",
        139 => "signal 11 (SIGSEGV, a native crash)",
        135 => "signal 7 (SIGBUS, a native crash)",
        132 => "signal 4 (SIGILL, a native crash)",
        136 => "signal 8 (SIGFPE, a native crash)",
        > 128 and < 160 => $"signal {exitCode - 128}",
        _ => $"exit code {exitCode}",
    };

    private static string Hint(string stderr)
    {
        string tail = stderr.Trim();
        if (tail.Contains("Stack overflow", StringComparison.OrdinalIgnoreCase)) return ": stack overflow, endless recursion?";
        var last = tail.Split('\n').LastOrDefault(l => l.Trim().Length > 0)?.Trim();
        return string.IsNullOrEmpty(last) ? "" : $": {(last.Length > 200 ? last[..200] + "…" : last)}";
    }
}

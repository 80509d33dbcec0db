using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;

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
/// caller's process. <see cref="RunAsync"/> starts a worker for one notebook; <see cref="NotebookWorkerProcess"/> keeps
/// one for several notebooks in turn.
/// </summary>
public static class NotebookWorker
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    internal sealed record Config(string Nonce, string Path, string Json, bool Quick, double CellTimeoutSeconds,
                                  double TotalTimeoutSeconds, bool ContinueOnError);

    /// <summary>
    /// Runs <paramref name="notebook"/> (its <see cref="Notebook.Path"/> names the working directory) in a worker started
    /// with <paramref name="command"/> for it alone; its cells get the outputs the worker sent back, as with
    /// <see cref="NotebookRunner.RunAsync"/>.
    /// </summary>
    public static async Task<RunReport> RunAsync(Notebook notebook, RunOptions options, WorkerCommand command, CancellationToken cancellationToken = default)
    {
        string path = System.IO.Path.GetFullPath(notebook.Path ?? System.IO.Path.Combine(Directory.GetCurrentDirectory(), "notebook.ipynb"));
        await using var worker = NotebookWorkerProcess.Start(command, System.IO.Path.GetDirectoryName(path)!);
        return await worker.RunAsync(notebook, options, cancellationToken);
    }

    /// <summary>
    /// The worker's side: reads one configuration line per notebook from standard input until it closes, runs each
    /// notebook with <see cref="NotebookRunner"/> and reports every cell on standard output. Between notebooks it puts
    /// back what a notebook may have changed in the process (formatters, libtorch's generator, gradient mode, threads)
    /// and frees the previous notebook's tensors; after a notebook whose cell timed out, was interrupted or crashed it
    /// exits, so that nothing it left running meets the next notebook. Returns the exit code (0 when the runs finished,
    /// whatever the cells did).
    /// </summary>
    public static async Task<int> ServeAsync()
    {
        using var input = new StreamReader(Console.OpenStandardInput());
        var channel = Console.OpenStandardOutput();
        var gate = new object();
        int threads = torch.get_num_threads();
        while (await input.ReadLineAsync() is { } line)
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var config = JsonSerializer.Deserialize<Config>(line, Json) ?? throw new InvalidOperationException("run-worker: no configuration on standard input.");
            void Send(string kind, JsonNode body)
            {
                byte[] bytes = Encoding.UTF8.GetBytes($"{config.Nonce} {kind} {body.ToJsonString()}\n");
                lock (gate)
                {
                    channel.Write(bytes);
                    channel.Flush();
                }
            }

            ResetProcess(threads);   // before every notebook: cheap in a fresh worker, and the first needs no special case
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
            var report = await NotebookRunner.RunAsync(notebook, options);
            bool reusable = report.Cells.All(c => c.Status is null or CellStatus.Ok or CellStatus.Error);
            Send("done", new JsonObject { ["reusable"] = reusable });
            if (!reusable) return 0;
        }
        return 0;
    }

    /// <summary>
    /// What a fresh worker would have: the default formatters, libtorch's generator seeded anew from the operating
    /// system (as in a new process: a notebook that does not seed gets new numbers, not the previous notebook's stream),
    /// gradients on, the worker's threads.
    /// </summary>
    private static void ResetProcess(int threads)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Formatter.ResetToDefault();   // the workbook's own come back with the next display (ValueFormatter.EnsureRegistered)
        torch.manual_seed(BitConverter.ToInt64(RandomNumberGenerator.GetBytes(8)) & long.MaxValue);
        torch.set_grad_enabled(true);
        if (torch.get_num_threads() != threads) torch.set_num_threads(threads);
    }

    internal static JsonObject WriteCell(CellReport report, Cell cell) => new()
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

    internal static CellReport ReadCell(JsonObject o, Notebook notebook)
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
}

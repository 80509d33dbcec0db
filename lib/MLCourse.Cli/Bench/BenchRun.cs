using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLCourse.Cli.Bench;

/// <summary>The settings of one <c>mlcourse bench</c> run.</summary>
internal sealed record BenchSettings
{
    public bool Quick { get; init; }
    public int Rounds { get; init; }
    public int Epochs { get; init; }
    public int TrainSize { get; init; }
    public int Threads { get; init; } = 2;
    public int Seed { get; init; } = 42;
    public int BatchSize { get; init; } = 128;
    public bool Stock { get; init; }
    public bool Mkl { get; init; }
    public string[] Models { get; init; } = ["mlp", "cnn"];
    public bool Runner { get; init; } = true;
}

/// <summary>Everything a bench run measured (the JSON file) plus the machine it ran on.</summary>
internal sealed record BenchReport
{
    public DateTime StartedUtc { get; init; }
    public BenchSettings Settings { get; init; } = new();
    public string Cpu { get; init; } = "";
    public int Cores { get; init; }
    public string LoadAverageAtStart { get; init; } = "";
    public string LoadAverageAtEnd { get; set; } = "";
    public string PeerStatus { get; set; } = "";
    public List<TrainingResult> Training { get; } = [];
    public RunnerResult? Runner { get; set; }
    public string Grading { get; set; } = "not available";
    public double? GradingSeconds { get; set; }
    public double TotalSeconds { get; set; }
}

/// <summary>
/// Runs the benchmark: each framework and model in a fresh process, alternating which framework goes first from
/// round to round, then the runner figures, and writes the report.
/// </summary>
internal sealed class BenchRun
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    internal const string Python = "/usr/bin/python3";
    internal const string OpenBlasFolder = "/usr/lib/x86_64-linux-gnu/openblas-openmp";

    private readonly BenchSettings settings;
    private readonly string root;
    private readonly string dataFolder;
    private readonly string scratch = Directory.CreateTempSubdirectory("mlcourse-bench-").FullName;

    public BenchRun(BenchSettings settings, string root, string dataFolder)
    {
        this.settings = settings;
        this.root = root;
        this.dataFolder = dataFolder;
    }

    public async Task<BenchReport> RunAsync(Action<string> log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var report = new BenchReport
        {
            StartedUtc = DateTime.UtcNow,
            Settings = settings,
            Cpu = CpuModel(),
            Cores = Environment.ProcessorCount,
            LoadAverageAtStart = LoadAverage(),
        };
        string script = Path.Combine(root, "bench", "pytorch_reference.py");
        report.PeerStatus = await PeerStatusAsync(script, cancellationToken);
        bool peer = report.PeerStatus == "installed";
        log($"PyTorch peer: {report.PeerStatus}");

        // One short, unrecorded run of each framework first: the first process after a quiet spell ran up to 20 % slower
        // than the same process a minute later (page cache, CPU frequency, the host), whichever framework it was.
        if (settings.Rounds > 0 && settings.Models.Any(m => m != "bert"))
        {
            var warmUp = settings with { Epochs = 1, TrainSize = 6_400 };
            foreach (var run in peer ? new[] { "course", "pytorch" } : ["course"])
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (run == "pytorch") await RunPeerAsync(script, "mlp", cancellationToken, warmUp);
                else await RunWorkerAsync<TrainingResult>(Spec("train", "mlp", run, warmUp), TorchSharpEnvironment(run), cancellationToken);
            }
            log("warm-up: one short run of each framework, not recorded");
        }

        for (int round = 1; round <= settings.Rounds; round++)
        {
            foreach (var model in settings.Models)
            {
                var runs = new List<string> { "course" };
                if (settings.Stock) runs.Add("stock");
                if (settings.Mkl) runs.Add("mkl");
                if (peer) runs.Add("pytorch");
                // Rotate the order every round so neither framework always runs first (or after the other).
                int shift = (round - 1) % runs.Count;
                runs = runs.Skip(shift).Concat(runs.Take(shift)).ToList();
                foreach (var run in runs)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var result = run == "pytorch"
                        ? await RunPeerAsync(script, model, cancellationToken)
                        : await RunWorkerAsync<TrainingResult>(Spec("train", model, run), TorchSharpEnvironment(run), cancellationToken);
                    result.Round = round;
                    report.Training.Add(result);
                    string speed = model == "bert"
                        ? $"{result.ImagesPerSecond * BertWorker.Length,7:0} tokens/s"
                        : $"{result.ImagesPerSecond,7:0} img/s  acc {result.TestAccuracy:P1}";
                    log($"round {round}/{settings.Rounds} {model} {Label(result),-22} epoch {result.EpochSeconds,7:0.000} s  "
                        + $"{speed}  RSS {result.Epochs[^1].RssMb:0} MB  (process {result.ProcessSeconds:0.0} s)");
                }
            }
        }

        if (settings.Runner)
        {
            string notebook = Path.Combine(root, "notebooks", "00-setup.ipynb");
            if (File.Exists(notebook))
            {
                report.Runner = await RunWorkerAsync<RunnerResult>(Spec("runner", "", "course") with { Notebook = notebook },
                    TorchSharpEnvironment("course"), cancellationToken);
                log($"runner: first cell {report.Runner.FirstCellMs:0} ms, warm cells {report.Runner.WarmCellMeanMs:0.0} ms on average");
            }
            await GradeAsync(report, log, cancellationToken);
        }
        report.LoadAverageAtEnd = LoadAverage();
        report.TotalSeconds = clock.Elapsed.TotalSeconds;
        try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
        return report;
    }

    internal static string Label(TrainingResult r) => r.Framework == "pytorch" ? $"PyTorch {r.Version}" : $"TorchSharp ({r.Variant})";

    private WorkerSpec Spec(string kind, string model, string variant, BenchSettings? with = null) => new()
    {
        Kind = kind,
        Model = model,
        Epochs = (with ?? settings).Epochs,
        TrainSize = (with ?? settings).TrainSize,
        BatchSize = settings.BatchSize,
        Threads = settings.Threads,
        Seed = settings.Seed,
        Variant = variant,
        Data = dataFolder,
        Out = Path.Combine(scratch, $"{kind}-{model}-{variant}-{Guid.NewGuid():N}.json"),
    };

    private Dictionary<string, string?> ThreadEnvironment() => new()
    {
        ["OMP_NUM_THREADS"] = settings.Threads.ToString(),
        ["MKL_NUM_THREADS"] = settings.Threads.ToString(),
        ["OPENBLAS_NUM_THREADS"] = settings.Threads.ToString(),
    };

    /// <summary>The course variant tunes malloc itself (Program.cs calls Malloc.Tune); the stock variant opts out.</summary>
    private Dictionary<string, string?> TorchSharpEnvironment(string variant)
    {
        var environment = ThreadEnvironment();
        foreach (var name in MLCourse.Malloc.EnvironmentVariables.Keys) environment[name] = null;
        environment["MLCOURSE_MALLOC"] = variant == "stock" ? "default" : null;
        environment[MLCourse.NativeBlas.Variable] = variant is "mkl" or "stock" ? "mkl" : null;   // stock: TorchSharp as it comes
        return environment;
    }

    private async Task<T> RunWorkerAsync<T>(WorkerSpec spec, Dictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var start = SelfStartInfo();
        start.ArgumentList.Add("bench");
        start.ArgumentList.Add("--worker");
        start.ArgumentList.Add(JsonSerializer.Serialize(spec, Json));
        var seconds = await RunProcessAsync(start, environment, cancellationToken);
        var result = JsonSerializer.Deserialize<T>(await File.ReadAllTextAsync(spec.Out, cancellationToken), Json)!;
        if (result is TrainingResult t) t.ProcessSeconds = seconds;
        if (result is RunnerResult r) r.ProcessSeconds = seconds;
        return result;
    }

    private async Task<TrainingResult> RunPeerAsync(string script, string model, CancellationToken cancellationToken, BenchSettings? with = null)
    {
        var settings = with ?? this.settings;
        string output = Path.Combine(scratch, $"pytorch-{model}-{Guid.NewGuid():N}.json");
        var start = new ProcessStartInfo(Python);
        foreach (var argument in new[]
                 {
                     script, "--data", dataFolder, "--model", model, "--epochs", settings.Epochs.ToString(),
                     "--train-size", settings.TrainSize.ToString(), "--batch-size", settings.BatchSize.ToString(),
                     "--threads", settings.Threads.ToString(), "--seed", settings.Seed.ToString(), "--out", output,
                 })
            start.ArgumentList.Add(argument);
        var seconds = await RunProcessAsync(start, PeerEnvironment(), cancellationToken);
        var result = JsonSerializer.Deserialize<TrainingResult>(await File.ReadAllTextAsync(output, cancellationToken), Json)!;
        result.ProcessSeconds = seconds;
        return result;
    }

    /// <summary>The honest peer: OpenBLAS (not Debian's reference BLAS), the same threads, the same malloc settings.</summary>
    private Dictionary<string, string?> PeerEnvironment()
    {
        var environment = ThreadEnvironment();
        if (Directory.Exists(OpenBlasFolder))
        {
            string? previous = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            environment["LD_LIBRARY_PATH"] = string.IsNullOrEmpty(previous) ? OpenBlasFolder : $"{OpenBlasFolder}:{previous}";
        }
        foreach (var (name, value) in MLCourse.Malloc.EnvironmentVariables) environment[name] = value;
        return environment;
    }

    private static async Task<string> PeerStatusAsync(string script, CancellationToken cancellationToken)
    {
        if (!File.Exists(Python)) return "not installed (no /usr/bin/python3)";
        if (!File.Exists(script)) return $"not available ({script} missing)";
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import torch");
        using var process = Process.Start(start)!;
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0) return "not installed (apt-get install python3-torch libopenblas0-openmp)";
        return "installed";
    }

    private async Task GradeAsync(BenchReport report, Action<string> log, CancellationToken cancellationToken)
    {
        string solution = Path.Combine(root, "solutions", "hw-mnist-mlp.ipynb");
        var help = SelfStartInfo();
        help.ArgumentList.Add("grade");
        help.ArgumentList.Add("--help");
        bool hasGrade;
        try { await RunProcessAsync(help, [], cancellationToken); hasGrade = true; }
        catch (InvalidOperationException) { hasGrade = false; }
        if (!File.Exists(solution) || !hasGrade)
        {
            report.Grading = "not available (" + (!hasGrade ? "no grade verb" : "no solutions/hw-mnist-mlp.ipynb") + " on this branch)";
            log($"grading: {report.Grading}");
            return;
        }
        var grade = SelfStartInfo();
        grade.ArgumentList.Add("grade");
        grade.ArgumentList.Add(solution);
        // `grade` exits 0 whenever grading completed, whatever the score: the results file tells whether the solution
        // earned every point (it does not when, say, MNIST is not found and its training question fails).
        string results = Path.Combine(Path.GetTempPath(), $"mlcourse-bench-grade-{Environment.ProcessId}.json");
        grade.ArgumentList.Add("--json");
        grade.ArgumentList.Add(results);
        var environment = ThreadEnvironment();
        environment["MLCOURSE_QUICK"] = "1";
        try
        {
            report.GradingSeconds = await RunProcessAsync(grade, environment, cancellationToken);
            report.Grading = GradingOutcome(results);
        }
        catch (InvalidOperationException e)
        {
            report.Grading = "failed: " + e.Message.Split('\n')[0];
        }
        log($"grading: {report.Grading} {report.GradingSeconds:0.0} s");
    }

    /// <summary>"ok" when the solution earned every point, else what it earned (the timing then measured a failing run).</summary>
    private static string GradingOutcome(string resultsPath)
    {
        try
        {
            using var results = System.Text.Json.JsonDocument.Parse(File.ReadAllText(resultsPath));
            double score = results.RootElement.GetProperty("score").GetDouble();
            double max = results.RootElement.GetProperty("tests").EnumerateArray().Sum(t => t.GetProperty("max_score").GetDouble());
            return score >= max ? "ok" : $"incomplete: the solution earned {score:0.##} of {max:0.##} points (is its data set found? MLCOURSE_DATA)";
        }
        catch (Exception e) when (e is IOException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return "no results file: " + e.Message;
        }
        finally
        {
            File.Delete(resultsPath);
        }
    }

    /// <summary>How to start this same program again (apphost, or dotnet + the dll).</summary>
    internal static ProcessStartInfo SelfStartInfo()
    {
        string executable = Environment.ProcessPath!;
        var start = new ProcessStartInfo(executable);
        if (Path.GetFileNameWithoutExtension(executable).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(BenchRun).Assembly.Location);
        return start;
    }

    /// <summary>Runs a child to completion (its output is kept only for the error message) and returns its wall time.</summary>
    private static async Task<double> RunProcessAsync(ProcessStartInfo start, Dictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        foreach (var (name, value) in environment)
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }
        var tail = new Queue<string>();
        void Keep(string? line)
        {
            if (line is null) return;
            lock (tail)
            {
                tail.Enqueue(line);
                while (tail.Count > 20) tail.Dequeue();
            }
        }
        var clock = Stopwatch.StartNew();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try { await process.WaitForExitAsync(cancellationToken); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        if (process.ExitCode != 0)
            throw new InvalidOperationException(
                $"{Path.GetFileName(start.FileName)} {string.Join(' ', start.ArgumentList.Take(3))} … exited with {process.ExitCode}:\n"
                + string.Join('\n', tail));
        return clock.Elapsed.TotalSeconds;
    }

    private static string CpuModel()
    {
        try
        {
            return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))
                       ?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        }
        catch (IOException) { return "unknown CPU"; }
    }

    internal static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }
}

namespace MLCourse.Cli.Bench;

/// <summary>What one worker process is asked to do (passed as JSON on its command line).</summary>
internal sealed record WorkerSpec
{
    /// <summary>"train" or "runner".</summary>
    public string Kind { get; init; } = "train";
    public string Model { get; init; } = "mlp";
    public int Epochs { get; init; } = 3;
    /// <summary>First N training images (0 = all 60,000).</summary>
    public int TrainSize { get; init; }
    public int BatchSize { get; init; } = 128;
    public int Threads { get; init; } = 2;
    public int Seed { get; init; } = 42;
    /// <summary>"course": the library's Adam, tuned malloc, the Trainer; "stock": TorchSharp's Adam, default malloc; "mkl": the course with libtorch's own MKL (MLCOURSE_BLAS=mkl).</summary>
    public string Variant { get; init; } = "course";
    public string? Data { get; init; }
    public string? Notebook { get; init; }
    public string Out { get; init; } = "";
}

/// <summary>One epoch of one training run.</summary>
internal sealed record EpochResult(int Epoch, double Seconds, double ImagesPerSecond, double RssMb, double Loss, double Accuracy);

/// <summary>One training run in one fresh process (either framework; the Python script writes the same shape).</summary>
internal sealed record TrainingResult
{
    public string Framework { get; init; } = "";
    public string Version { get; init; } = "";
    public string Model { get; init; } = "";
    public string Variant { get; init; } = "";
    public int Threads { get; init; }
    public int TrainImages { get; init; }
    public int BatchSize { get; init; }
    public double SetupSeconds { get; init; }
    public List<EpochResult> Epochs { get; init; } = [];
    public double TestAccuracy { get; init; }
    public double InferenceImagesPerSecond { get; init; }
    public List<string> Blas { get; init; } = [];
    public double PeakRssMb { get; init; }
    /// <summary>The highest resident set size of the process (VmHWM), and the resident memory at the end split into
    /// anonymous (heaps, tensors) and file-backed (code of the loaded libraries) pages.</summary>
    public double HighWaterRssMb { get; init; }
    public double RssAnonMb { get; init; }
    public double RssFileMb { get; init; }
    /// <summary>TorchSharp only: memory the .NET garbage collector had committed at the end (NaN for PyTorch).</summary>
    public double ManagedCommittedMb { get; init; } = double.NaN;
    /// <summary>GFLOP/s of a 2048 × 2048 × 2048 float32 matrix product in this process (best of five): this CPU's practical peak.</summary>
    public double PeakGflops { get; init; } = double.NaN;
    /// <summary>One extra epoch split into phases: milliseconds per step (batch, forward, loss, zero_grad, backward, step, metrics, dispose, total).</summary>
    public Dictionary<string, double>? Phases { get; init; }
    /// <summary>Set by the orchestrator: the round and the process's wall time.</summary>
    public int Round { get; set; }
    public double ProcessSeconds { get; set; }

    /// <summary>Median epoch time, leaving out epoch 1 (warm-up) when there are more.</summary>
    public double EpochSeconds => Median(Steady.Select(e => e.Seconds));

    public double ImagesPerSecond => Median(Steady.Select(e => e.ImagesPerSecond));

    /// <summary>RSS growth from epoch 2 to the last, in percent (NaN with fewer than 3 epochs).</summary>
    public double RssGrowthPercent => Epochs.Count >= 3 ? 100 * (Epochs[^1].RssMb / Epochs[1].RssMb - 1) : double.NaN;

    private IEnumerable<EpochResult> Steady => Epochs.Count > 1 ? Epochs.Skip(1) : Epochs;

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

/// <summary>One code cell of the reference notebook, as the runner ran it.</summary>
internal sealed record CellTiming(int Index, double CompileMs, double ExecuteMs, double TotalMs, string Status);

/// <summary>The runner figures: a reference notebook cell by cell, and grading of a homework solution.</summary>
internal sealed record RunnerResult
{
    public string Notebook { get; init; } = "";
    /// <summary>Pass 1, in a fresh process.</summary>
    public List<CellTiming> Cells { get; init; } = [];
    /// <summary>Pass 2, a new session in the same process.</summary>
    public List<CellTiming> SecondPass { get; init; } = [];
    /// <summary>40 small typical cells in one more session of the same process (the engine's own cost per cell).</summary>
    public List<CellTiming> SmallCells { get; init; } = [];
    public double ProcessSeconds { get; set; }
    public double FirstCellMs => Cells.Count > 0 ? Cells[0].TotalMs : double.NaN;
    public double WarmCellMeanMs => Cells.Count > 1 ? Cells.Skip(1).Average(c => c.TotalMs) : double.NaN;
    public double WarmCompileMeanMs => Cells.Count > 1 ? Cells.Skip(1).Average(c => c.CompileMs) : double.NaN;
    public double WarmExecuteMeanMs => Cells.Count > 1 ? Cells.Skip(1).Average(c => c.ExecuteMs) : double.NaN;
    public double SecondPassMeanMs => SecondPass.Count > 0 ? SecondPass.Average(c => c.TotalMs) : double.NaN;
    public double SecondPassCompileMeanMs => SecondPass.Count > 0 ? SecondPass.Average(c => c.CompileMs) : double.NaN;
    public double SmallCellMeanMs => SmallCells.Count > 0 ? SmallCells.Average(c => c.TotalMs) : double.NaN;
    public double SmallCellCompileMeanMs => SmallCells.Count > 0 ? SmallCells.Average(c => c.CompileMs) : double.NaN;
}

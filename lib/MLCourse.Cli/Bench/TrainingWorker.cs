using System.Diagnostics;
using MLCourse.Data;
using MLCourse.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Cli.Bench;

/// <summary>
/// One training run in this (fresh) process: the C# side of the benchmark. bench/pytorch_reference.py mirrors it
/// line for line (model, initialisation order, shuffling, per-batch work).
/// </summary>
internal static class TrainingWorker
{
    public static TrainingResult Run(WorkerSpec spec)
    {
        if (spec.Model == "bert") return BertWorker.Run(spec);
        var started = Stopwatch.StartNew();
        torch.set_num_threads(spec.Threads);
        Course.Device = torch.CPU;
        using var data = FashionMnist.Load(spec.Data);
        var (X, y) = (data.Train.X, data.Train.y);
        if (spec.TrainSize > 0 && spec.TrainSize < X.shape[0])
            (X, y) = (X.narrow(0, 0, spec.TrainSize).contiguous(), y.narrow(0, 0, spec.TrainSize).contiguous());

        Course.Seed(spec.Seed);
        var net = Build(spec.Model);
        optim.Optimizer optimizer = spec.Variant == "stock"
            ? optim.Adam(net.parameters(), lr: 1e-3)
            : new Adam(net.parameters(), lr: 1e-3);
        var trainer = new Trainer(net, optimizer, nn.CrossEntropyLoss());
        var trainLoader = new TensorLoader(X, y, spec.BatchSize, shuffle: true, seed: spec.Seed);
        double setupSeconds = started.Elapsed.TotalSeconds;

        var epochs = new List<EpochResult>();
        for (int epoch = 1; epoch <= spec.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var history = trainer.Fit(trainLoader, numEpochs: 1, description: $"{spec.Model} epoch {epoch}");
            double seconds = clock.Elapsed.TotalSeconds;
            var train = history.Last.Train;
            epochs.Add(new EpochResult(epoch, seconds, trainLoader.Samples / seconds, RssMb(), train.Loss, train.Accuracy ?? double.NaN));
        }

        var phases = Phases(net, optimizer, trainLoader);

        // Inference at batch 1000 over the test set: the first pass warms up, the second is timed.
        var test = data.Test.Loader(1000);
        double accuracy = 0, inferenceSeconds = 0;
        for (int repeat = 0; repeat < 2; repeat++)
        {
            var clock = Stopwatch.StartNew();
            accuracy = trainer.Evaluate(test).Accuracy ?? double.NaN;
            inferenceSeconds = clock.Elapsed.TotalSeconds;
        }

        return Result(spec, (int)trainLoader.Samples, spec.BatchSize, setupSeconds, epochs, accuracy, data.Test.Count / inferenceSeconds)
            with { Phases = phases };
    }

    /// <summary>
    /// One more epoch, the Trainer's per-batch work written out with a clock between the phases: where a step's time
    /// goes (milliseconds per step, mean over the epoch). bench/pytorch_reference.py times the same phases.
    /// </summary>
    private static Dictionary<string, double> Phases(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, TensorLoader loader)
    {
        var loss = nn.CrossEntropyLoss();
        var ticks = new Dictionary<string, long>();
        long steps = 0, last = Stopwatch.GetTimestamp();
        void Lap(string phase)
        {
            long now = Stopwatch.GetTimestamp();
            ticks[phase] = ticks.GetValueOrDefault(phase) + (now - last);
            last = now;
        }
        net.train();
        using var correct = torch.zeros([], dtype: ScalarType.Int64);
        using var data = loader.GetEnumerator();
        long epochStart = Stopwatch.GetTimestamp();
        last = epochStart;
        while (true)
        {
            using (var scope = torch.NewDisposeScope())
            {
                if (!data.MoveNext()) break;
                var (X, y) = data.Current;
                Lap("batch");
                var yHat = net.call(X);
                Lap("forward");
                var l = loss.call(yHat, y);
                Lap("loss");
                optimizer.zero_grad();
                Lap("zero_grad");
                l.backward();
                Lap("backward");
                optimizer.step();
                Lap("step");
                correct.add_(yHat.argmax(-1).eq(y).sum());
                Lap("metrics");
            }
            Lap("dispose");
            steps++;
        }
        long total = Stopwatch.GetTimestamp() - epochStart;
        var ms = ticks.ToDictionary(kv => kv.Key, kv => 1000.0 * kv.Value / Stopwatch.Frequency / steps);
        ms["total"] = 1000.0 * total / Stopwatch.Frequency / steps;
        return ms;
    }

    /// <summary>The result of a run in this process, with the framework's version, threads, BLAS and peak RSS filled in.</summary>
    public static TrainingResult Result(WorkerSpec spec, int trainImages, int batchSize, double setupSeconds, List<EpochResult> epochs,
                                        double testAccuracy, double inferencePerSecond) => new()
    {
        Framework = "torchsharp",
        Version = typeof(torch).Assembly.GetName().Version?.ToString(3) ?? "",
        Model = spec.Model,
        Variant = spec.Variant,
        Threads = torch.get_num_threads(),
        TrainImages = trainImages,
        BatchSize = batchSize,
        SetupSeconds = setupSeconds,
        Epochs = epochs,
        TestAccuracy = testAccuracy,
        InferenceImagesPerSecond = inferencePerSecond,
        Blas = BlasInUse(),
        PeakRssMb = RssMb(),
        HighWaterRssMb = Status("VmHWM:"),
        RssAnonMb = Status("RssAnon:"),
        RssFileMb = Status("RssFile:"),
        ManagedCommittedMb = ManagedCommittedMb(),
        PeakGflops = PeakGflops(),
    };

    /// <summary>Memory the .NET garbage collector holds committed, read after a young-generation collection (the figure is that of the last collection).</summary>
    private static double ManagedCommittedMb()
    {
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        return GC.GetGCMemoryInfo().TotalCommittedBytes / 1048576.0;
    }

    /// <summary>
    /// This CPU's practical float32 peak with the process's threads: the best of five 2048³ matrix products (17.2 GFLOP
    /// each), after one to warm up. Measured at the end of the run, so it changes neither the training nor its memory figures.
    /// </summary>
    public static double PeakGflops()
    {
        using var scope = torch.NewDisposeScope();
        const int n = 2048;
        var a = torch.randn(n, n);
        var b = torch.randn(n, n);
        a.matmul(b);
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long start = Stopwatch.GetTimestamp();
            using var c = a.matmul(b);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>The two benchmark models, built in the same order as the Python reference (so the same seed gives comparable weights).</summary>
    public static nn.Module<Tensor, Tensor> Build(string model) => model switch
    {
        // 784-512-256-10
        "mlp" => nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)),
        // conv32-pool-conv64-pool-fc128-fc10: the course's CNN (MLCourse.Models.Cnn, channels-last convolutions),
        // whose parameters are created in the same order as the Python reference's nn.Sequential
        "cnn" => new MLCourse.Models.Cnn(),
        _ => throw new ArgumentException($"unknown model '{model}' (mlp or cnn)."),
    };

    /// <summary>Resident set size of this process in MB (Linux; NaN elsewhere).</summary>
    public static double RssMb() => Status("VmRSS:");

    /// <summary>A memory figure of /proc/self/status in MB (Linux; NaN elsewhere).</summary>
    private static double Status(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return double.NaN;
    }

    /// <summary>The BLAS/MKL/oneDNN libraries mapped into this process.</summary>
    public static List<string> BlasInUse()
    {
        if (!File.Exists("/proc/self/maps")) return [];
        string[] keys = ["blas", "mkl", "lapack", "dnnl", "libtorch_cpu"];
        return File.ReadLines("/proc/self/maps")
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(parts => parts.Length >= 6 && parts[5].StartsWith('/'))
            .Select(parts => parts[5])
            .Where(path => keys.Any(k => Path.GetFileName(path).Contains(k, StringComparison.OrdinalIgnoreCase)))
            .Distinct().Order(StringComparer.Ordinal).ToList();
    }
}

using System.CommandLine;
using System.Text.Json;
using MLCourse.Cli.Bench;
using MLCourse.Data;

namespace MLCourse.Cli;

/// <summary>
/// <c>mlcourse bench [--quick] [--json FILE] [--rounds N]</c>: training speed, memory and accuracy of the course's
/// TorchSharp path against a PyTorch reference (fresh processes, alternating), and the notebook runner's timings.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var quick = new Option<bool>("--quick") { Description = "A subset of the data and fewer rounds: runs in about two minutes." };
        var json = new Option<string?>("--json") { Description = "Also write every measurement to this JSON file." };
        var rounds = new Option<int?>("--rounds") { Description = "Rounds of alternating runs (default 3, quick 2)." };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs per training run (default 4, quick 3)." };
        var trainSize = new Option<int?>("--train-size") { Description = "Train on the first N images (default all 60,000, quick 10,240)." };
        var threads = new Option<int>("--threads") { Description = "Threads for both frameworks.", DefaultValueFactory = _ => 2 };
        var models = new Option<string[]>("--model") { Description = "mlp, cnn (default both), bert (hw-imdb-bert's fine-tuning step, MiniLM-sized).", AllowMultipleArgumentsPerToken = true };
        var stock = new Option<bool>("--stock") { Description = "Also run TorchSharp's own Adam with default malloc and libtorch's MKL (what the library's fixes buy)." };
        var mkl = new Option<bool>("--mkl") { Description = "Also run the course with libtorch's own MKL (MLCOURSE_BLAS=mkl): what OpenBLAS buys on an AMD processor." };
        var noRunner = new Option<bool>("--no-runner") { Description = "Skip the notebook runner and grading figures." };
        var worker = new Option<string?>("--worker") { Hidden = true };
        var command = new Command("bench", "Benchmark training (TorchSharp vs PyTorch), memory and the notebook runner; print a table.")
        {
            quick, json, rounds, epochs, trainSize, threads, models, stock, mkl, noRunner, worker,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(worker) is { } specJson) return await RunWorkerAsync(specJson);
            bool isQuick = parse.GetValue(quick);
            var settings = new BenchSettings
            {
                Quick = isQuick,
                Rounds = parse.GetValue(rounds) ?? (isQuick ? 2 : 3),
                Epochs = parse.GetValue(epochs) ?? (isQuick ? 3 : 4),
                TrainSize = parse.GetValue(trainSize) ?? (isQuick ? 10_240 : 0),
                Threads = parse.GetValue(threads),
                Models = parse.GetValue(models) is { Length: > 0 } m ? m : ["mlp", "cnn"],
                Stock = parse.GetValue(stock),
                Mkl = parse.GetValue(mkl),
                Runner = !parse.GetValue(noRunner),
            };
            string root = RepositoryRoot();
            var location = DataCatalog.Locate(FashionMnist.Name);
            if (location.Folder is not { } data)
            {
                Console.Error.WriteLine($"mlcourse bench: Fashion-MNIST not found ({location}).");
                return 2;
            }
            var report = await new BenchRun(settings, root, data).RunAsync(line => Console.WriteLine("  " + line), cancellationToken);
            Console.WriteLine();
            Console.Write(BenchTable.Render(report));
            Console.WriteLine($"({report.TotalSeconds:0} s in all)");
            if (parse.GetValue(json) is { } file)
            {
                await File.WriteAllTextAsync(file, JsonSerializer.Serialize(report, BenchRun.Json), cancellationToken);
                Console.WriteLine($"wrote {file}");
            }
            return 0;
        });
        return command;
    }

    private static async Task<int> RunWorkerAsync(string specJson)
    {
        var spec = JsonSerializer.Deserialize<WorkerSpec>(specJson, BenchRun.Json)!;
        object result = spec.Kind switch
        {
            "train" => TrainingWorker.Run(spec),
            "runner" => await RunnerWorker.RunAsync(spec),
            _ => throw new ArgumentException($"unknown worker kind '{spec.Kind}'."),
        };
        await File.WriteAllTextAsync(spec.Out, JsonSerializer.Serialize(result, result.GetType(), BenchRun.Json));
        return 0;
    }

    /// <summary>The checkout this command runs from: the folder holding MLCourse.slnx, above the working directory or the program.</summary>
    private static string RepositoryRoot()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
                if (File.Exists(Path.Combine(folder.FullName, "MLCourse.slnx"))) return folder.FullName;
        return Directory.GetCurrentDirectory();
    }
}

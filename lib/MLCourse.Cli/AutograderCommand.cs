using System.CommandLine;
using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary>
/// <c>mlcourse autograder gradescope HOMEWORK -o hw.zip</c>: Gradescope's autograder bundle for one homework; and the
/// hidden <c>mlcourse autograder run-gradescope</c> that the bundle's <c>run_autograder</c> calls.
/// </summary>
internal static class AutograderCommand
{
    public static Command Create()
    {
        var command = new Command("autograder", "Build the autograder of a homework for a grading platform (Gradescope).")
        {
            CreateGradescope(),
            CreateRun(),
        };
        return command;
    }

    private static Command CreateGradescope()
    {
        var homework = new Argument<string>("homework") { Description = "The homework id (hw-mnist-mlp) or its solution notebook." };
        var output = new Option<string>("--output", "-o") { Description = "The zip to write.", DefaultValueFactory = _ => "autograder.zip" };
        var quick = new Option<bool>("--quick") { Description = "Grade in quick mode on Gradescope (smaller training, the checks' lower bars)." };
        var timeout = new Option<int?>("--timeout") { Description = "Per-cell limit in seconds (default: the grader's)." };
        var totalTimeout = new Option<int?>("--total-timeout") { Description = "Whole-grading limit in seconds (default: the grader's); set Gradescope's own timeout above it." };
        var memory = new Option<int?>("--memory") { Description = "Memory cap of the worker in MB (default: the grader's)." };
        var checks = new Option<string[]>("--checks") { Description = "Extra folder of check files (private checks); repeatable." };
        var data = new Option<string[]>("--data") { Description = "A data set to include (manifest name); repeatable. Default: the ones the solution loads." };
        var grader = new Option<string?>("--grader") { Description = "The grader's build to bundle (a folder with MLCourse.Cli.dll; default: this one)." };
        var command = new Command("gradescope", "Build Gradescope's autograder zip: setup.sh (installs .NET 10 and libtorch), run_autograder, "
                                                + "the grader, the homework's checks and data.")
        {
            homework, output, quick, timeout, totalTimeout, memory, checks, data, grader,
        };
        command.SetAction(parse =>
        {
            string id = parse.GetValue(homework)!;
            string? solution = null;
            if (id.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase))
            {
                solution = Path.GetFullPath(id);
                id = Path.GetFileNameWithoutExtension(id);
            }
            var folders = new List<string>();
            if (CheckFiles.DefaultFolder(AppContext.BaseDirectory) is { } installed) folders.Add(installed);
            folders.AddRange((parse.GetValue(checks) ?? []).Select(Path.GetFullPath));
            // The solution tells which data sets the homework loads (unless --data says).
            if (solution is null && CheckFiles.DefaultFolder(AppContext.BaseDirectory) is { } checkRoot)
                solution = Path.GetFullPath(Path.Combine(checkRoot, "..", "..", "..", "solutions", id + ".ipynb"));
            string[] sets = parse.GetValue(data) ?? [];
            try
            {
                if (sets.Length == 0 && solution is not null && File.Exists(solution))
                    sets = Gradescope.DataSetsUsedBy(Notebook.Load(solution)).ToArray();
                else if (sets.Length == 0)
                    Console.Error.WriteLine($"note: no solution notebook found for {id}; no data sets included (name them with --data NAME).");
                var config = new AutograderConfig
                {
                    Homework = id,
                    Quick = parse.GetValue(quick),
                    CellTimeoutSeconds = parse.GetValue(timeout),
                    TotalTimeoutSeconds = parse.GetValue(totalTimeout),
                    MemoryLimitMb = parse.GetValue(memory),
                };
                string from = parse.GetValue(grader) ?? AppContext.BaseDirectory;
                var bundle = Gradescope.Build(parse.GetValue(output)!, config, from, folders, sets);
                Console.WriteLine($"wrote {bundle.Zip}: {bundle.Bytes / 1e6:0.0} MB");
                Console.WriteLine($"  homework {id}{(config.Quick ? " (quick mode)" : "")}; checks: {string.Join(", ", bundle.Checks)}; "
                                  + $"data: {(bundle.Data.Count == 0 ? "none" : string.Join(", ", bundle.Data))}");
                Console.WriteLine("  Upload it as the assignment's autograder (Configure Autograder → Zip file upload); setup.sh installs .NET 10 and "
                                  + "downloads libtorch (~130 MB) while Gradescope builds the image. See docs/grading.md.");
                return 0;
            }
            catch (Exception e) when (e is GradingException or CheckFileException or NotebookFormatException or IOException or MLCourse.Data.DataSetException)
            {
                Console.Error.WriteLine($"mlcourse autograder gradescope: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    private static Command CreateRun()
    {
        var root = new Option<string?>("--root") { Description = $"The autograder root (default: ${Gradescope.RootVariable} or /autograder)." };
        var command = new Command("run-gradescope", "Internal: what the bundle's run_autograder runs.") { Hidden = true };
        command.Options.Add(root);
        command.SetAction(async (parse, cancellationToken) =>
        {
            string folder = parse.GetValue(root) ?? Environment.GetEnvironmentVariable(Gradescope.RootVariable) ?? "/autograder";
            var worker = Self.Command("grade-worker");
            try
            {
                var report = await Gradescope.RunAsync(folder, worker.FileName, worker.Arguments, cancellationToken);
                // Gradescope keeps stdout for the instructor (results/stdout): the teacher's log, paths and frames included.
                Console.Write(Batch.TeacherLog(new BatchResult(new Submission("submission", report.Notebook), report)));
                Console.WriteLine($"wrote {Path.Combine(folder, "results", "results.json")}");
                return 0;
            }
            catch (Exception e) when (e is GradingException or CheckFileException or IOException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"mlcourse autograder: {e.Message}");
                return 2;
            }
        });
        return command;
    }
}

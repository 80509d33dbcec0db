using System.CommandLine;
using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary>
/// <c>mlcourse release [solutions/] [--output exercises/] [--check] [--time [--quick]]</c>: exercises from solution notebooks,
/// and (<c>--time</c>) the solutions' run time, from which the grader derives its time limits (docs/grading.md, "Time limits").
/// </summary>
internal static class ReleaseCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("solutions")
        {
            Description = "Solution notebooks or folders (default: solutions/).", Arity = ArgumentArity.ZeroOrMore,
        };
        var output = new Option<string>("--output", "-o") { Description = "Folder for the exercises.", DefaultValueFactory = _ => "exercises" };
        var check = new Option<bool>("--check") { Description = "Write nothing; exit 1 if an exercise is missing or differs from its release." };
        var time = new Option<bool>("--time")
        {
            Description = "Also grade each solution once and store how long its cells and checks took (timing.json beside the homework's "
                          + "checks): the grader gives a submission's cell 5× the solution's time + 5 s (at least 10 s).",
        };
        var quick = new Option<bool>("--quick") { Description = "With --time: measure quick mode (MLCOURSE_QUICK=1), the mode `mlcourse grade --quick` uses." };
        var checksFolder = new Option<string?>("--checks") { Description = "With --time: the check folder to write timing.json into (default: tests/Grader/checks of this checkout)." };
        var command = new Command("release", "Write exercise notebooks: each // BEGIN SOLUTION … // END SOLUTION region becomes a stub "
                                             + "that throws NotImplementedException with the question's instruction; outputs are cleared.")
        {
            paths, output, check, time, quick, checksFolder,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string[] given = parse.GetValue(paths) is { Length: > 0 } p ? p : ["solutions"];
            var notebooks = NotebookPaths.Expand(given, out var missing).Where(n => n.EndsWith(".ipynb", StringComparison.OrdinalIgnoreCase)).ToList();
            foreach (var m in missing) Console.Error.WriteLine($"mlcourse release: {m}: no such notebook or folder.");
            if (missing.Count > 0 || notebooks.Count == 0) return 2;
            string folder = parse.GetValue(output)!;
            bool checkOnly = parse.GetValue(check);
            int bad = 0;
            foreach (var path in notebooks)
            {
                string target = Path.Combine(folder, Path.GetFileName(path));
                try
                {
                    var exercise = SolutionRelease.Release(Notebook.Load(path));
                    string json = exercise.ToJson();
                    bool same = File.Exists(target) && File.ReadAllText(target) == json;
                    if (checkOnly)
                    {
                        if (!same) bad++;
                        Console.WriteLine(same ? $"✓ {target} is in sync with {path}" : $"✗ {target} differs from the release of {path}: run mlcourse release");
                        continue;
                    }
                    if (!same) exercise.Save(target);
                    Console.WriteLine($"{(same ? "=" : "✓")} {path} → {target}");
                }
                catch (Exception e) when (e is NotebookFormatException or SolutionMarkerException)
                {
                    Console.Error.WriteLine($"✗ {e.Message}");
                    bad++;
                }
            }
            if (bad == 0 && !checkOnly && parse.GetValue(time))
                bad += await MeasureAsync(notebooks, parse.GetValue(quick), parse.GetValue(checksFolder), cancellationToken);
            return bad == 0 ? 0 : 1;
        });
        return command;
    }

    /// <summary>Grades each solution once and writes its timing.json; returns how many could not be measured.</summary>
    private static async Task<int> MeasureAsync(IEnumerable<string> solutions, bool quick, string? checksFolder, CancellationToken cancellationToken)
    {
        string? folder = checksFolder is not null ? Path.GetFullPath(checksFolder)
            : CheckFiles.DefaultFolder(Directory.GetCurrentDirectory()) ?? CheckFiles.DefaultFolder(AppContext.BaseDirectory);
        if (folder is null || !Directory.Exists(folder))
        {
            Console.Error.WriteLine("mlcourse release --time: no check folder (tests/Grader/checks of a checkout); pass --checks DIR.");
            return 1;
        }
        var worker = Self.Command("grade-worker");
        int bad = 0;
        foreach (var path in solutions)
        {
            string homework = Path.GetFileNameWithoutExtension(path);
            if (!Directory.Exists(Path.Combine(folder, homework))) continue;   // a notebook without checks is no homework
            var options = new GradeOptions
            {
                Quick = quick,
                CheckFolders = [folder],
                WorkerFileName = worker.FileName,
                WorkerArguments = worker.Arguments,
            };
            try
            {
                var timing = await TimeLimits.MeasureAsync(path, options, cancellationToken);
                string file = TimeLimits.Save(folder, homework, quick, timing);
                Console.WriteLine($"⏱ {path} ({TimeLimits.Mode(quick)}): {timing.Total:0.0} s of cells and checks, slowest cell "
                                  + $"{timing.Cells.Select(c => c.Seconds).DefaultIfEmpty(0).Max():0.0} s → {file}");
            }
            catch (Exception e) when (e is GradingException or CheckFileException)
            {
                Console.Error.WriteLine($"✗ {path}: {e.Message}");
                bad++;
            }
        }
        return bad;
    }
}

using System.CommandLine;
using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary><c>mlcourse release [solutions/] [--output exercises/] [--check]</c>: exercises from solution notebooks.</summary>
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
        var command = new Command("release", "Write exercise notebooks: each // BEGIN SOLUTION … // END SOLUTION region becomes a stub "
                                             + "that throws NotImplementedException with the question's instruction; outputs are cleared.")
        {
            paths, output, check,
        };
        command.SetAction(parse =>
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
            return bad == 0 ? 0 : 1;
        });
        return command;
    }
}

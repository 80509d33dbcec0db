using System.CommandLine;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary><c>mlcourse check NOTEBOOK|FOLDER…</c>: the notebook rules, without running anything.</summary>
internal static class CheckCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("notebooks") { Description = "Notebooks or folders to check.", Arity = ArgumentArity.OneOrMore };
        var command = new Command("check", "Check notebooks: Polyglot C# metadata, C#-only cells, the setup cell, no stale error outputs.") { paths };
        command.SetAction(parse =>
        {
            var notebooks = NotebookPaths.Expand(parse.GetValue(paths)!, out var missing);
            foreach (var m in missing) Console.Error.WriteLine($"mlcourse check: {m}: no such notebook or folder.");
            int bad = missing.Count;
            foreach (var path in notebooks)
            {
                IReadOnlyList<string> problems;
                try { problems = NotebookLint.Check(NotebookFiles.Load(path)); }
                catch (NotebookFormatException e) { problems = [e.Message]; }
                if (problems.Count == 0)
                {
                    Console.WriteLine($"✓ {path}");
                    continue;
                }
                bad++;
                foreach (var problem in problems) Console.Error.WriteLine($"✗ {path}: {problem}");
            }
            return bad == 0 ? 0 : 1;
        });
        return command;
    }
}

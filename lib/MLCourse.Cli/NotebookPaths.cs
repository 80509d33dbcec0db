namespace MLCourse.Cli;

/// <summary>Expands the notebook arguments of a verb: files as given, folders to their .ipynb files in name order.</summary>
internal static class NotebookPaths
{
    public static IReadOnlyList<string> Expand(IEnumerable<string> arguments, out List<string> missing)
    {
        var paths = new List<string>();
        missing = [];
        foreach (var argument in arguments)
        {
            if (Directory.Exists(argument))
                paths.AddRange(Directory.GetFiles(argument, "*.ipynb").Concat(Directory.GetFiles(argument, "*.dib")).Order(StringComparer.Ordinal));
            else if (File.Exists(argument))
                paths.Add(argument);
            else
                missing.Add(argument);
        }
        return paths;
    }
}

using System.Text.RegularExpressions;

namespace MLCourse.Notebooks;

/// <summary>
/// The rules every workbook notebook follows (DESIGN.md): Polyglot-compatible C# metadata, C# cells only,
/// a first code cell that loads the library, and no stale error outputs.
/// </summary>
public static partial class NotebookLint
{
    /// <summary>Problems found, one sentence each naming the cell; empty when the notebook is clean.</summary>
    public static IReadOnlyList<string> Check(Notebook notebook)
    {
        var problems = new List<string>();
        var meta = notebook.Metadata;
        if (meta["kernelspec"]?["name"]?.GetValue<string>() != ".net-csharp")
            problems.Add("metadata.kernelspec.name must be \".net-csharp\" (Polyglot-compatible C#).");
        if (meta["language_info"]?["name"]?.GetValue<string>() != "C#")
            problems.Add("metadata.language_info.name must be \"C#\".");
        if (notebook.DefaultLanguage != "csharp" || meta["polyglot_notebook"] is null)
            problems.Add("metadata.polyglot_notebook.kernelInfo.defaultKernelName must be \"csharp\".");

        bool firstCode = true;
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            string where = $"cell {i + 1}";
            if (cell.Kind != CellKind.Code) continue;
            if (cell.Metadata["polyglot_notebook"]?["kernelName"]?.GetValue<string>() != "csharp"
                || cell.Metadata["dotnet_interactive"]?["language"]?.GetValue<string>() != "csharp")
                problems.Add($"{where}: code cells need metadata polyglot_notebook.kernelName and dotnet_interactive.language = \"csharp\".");
            if (Magics.Parse(cell.Source).OtherLanguage is { } language)
                problems.Add($"{where}: a #!{language} cell; workbook notebooks hold C# cells only.");
            if (firstCode)
            {
                firstCode = false;
                if (!SetupReference().IsMatch(cell.Source))
                    problems.Add($"{where}: the first code cell must load the library (#r \"nuget: MLCourse, …\").");
            }
            if (RelativeSource().Match(cell.Source) is { Success: true } relative)
                problems.Add($"{where}: {relative.Value.Trim()} names a package source relative to the notebook, which .NET Interactive rejects (\"Invalid URI\"); the build installs MLCourse where #r \"nuget: MLCourse, …\" finds it without #i.");
            if (cell.Outputs.OfType<ErrorOutput>().Any())
                problems.Add($"{where}: holds a stale error output; clear outputs before committing (mlcourse run shows the error).");
        }
        if (firstCode) problems.Add("the notebook has no code cell.");
        return problems;
    }

    [GeneratedRegex("""^\s*#r\s+"nuget:\s*MLCourse\b""", RegexOptions.Multiline)]
    private static partial Regex SetupReference();

    [GeneratedRegex("""^\s*#i\s+"nuget:\s*\.{1,2}[/\\][^"]*"\s*$""", RegexOptions.Multiline)]
    private static partial Regex RelativeSource();
}

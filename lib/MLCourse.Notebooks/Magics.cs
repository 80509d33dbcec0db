using System.Text.RegularExpressions;

namespace MLCourse.Notebooks;

/// <summary>What the magic lines of a cell asked for, and the C# left once they are blanked out.</summary>
/// <param name="Code">The cell with every magic line replaced by an empty line (line numbers stay right).</param>
/// <param name="Packages">`#r "nuget: Name[, Version]"` requests.</param>
/// <param name="Sources">`#i "nuget: source"` / `#i "folder"` package sources.</param>
/// <param name="Directives">`#!name args` lines (time, about, lsmagic, or a language such as fsharp).</param>
public sealed record MagicLines(string Code, IReadOnlyList<PackageRequest> Packages, IReadOnlyList<string> Sources,
                                IReadOnlyList<string> Directives)
{
    /// <summary>True when the cell is written in another language (a first-line <c>#!fsharp</c>, <c>#!markdown</c>…).</summary>
    public string? OtherLanguage => Directives.Count > 0 && Magics.Languages.Contains(Directives[0].Split(' ')[0])
                                    && Directives[0].Split(' ')[0] is not ("csharp" or "c#") ? Directives[0].Split(' ')[0] : null;
}

/// <summary>One <c>#r "nuget: Name, Version"</c> request.</summary>
/// <param name="Name">Package id.</param>
/// <param name="Version">Version or range as written, or null for the newest.</param>
/// <param name="Line">1-based line in the cell.</param>
public sealed record PackageRequest(string Name, string? Version, int Line);

/// <summary>Parses the magic lines .NET Interactive's C# kernel understood.</summary>
public static partial class Magics
{
    /// <summary>Language names a <c>#!</c> line may switch to.</summary>
    public static readonly HashSet<string> Languages =
        ["csharp", "c#", "fsharp", "f#", "pwsh", "powershell", "javascript", "js", "html", "markdown", "md", "mermaid", "sql", "kql", "value", "http"];

    /// <summary>Splits a cell into magic requests and C#.</summary>
    public static MagicLines Parse(string cell)
    {
        var lines = cell.Replace("\r\n", "\n").Split('\n');
        var packages = new List<PackageRequest>();
        var sources = new List<string>();
        var directives = new List<string>();
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (NugetReference().Match(line) is { Success: true } r)
            {
                string[] parts = r.Groups["spec"].Value.Split(',', 2, StringSplitOptions.TrimEntries);
                packages.Add(new PackageRequest(parts[0], parts.Length > 1 && parts[1].Length > 0 ? parts[1] : null, i + 1));
                lines[i] = "";
            }
            else if (SourceLine().Match(line) is { Success: true } s)
            {
                string source = s.Groups["src"].Value.Trim();
                sources.Add(source.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase) ? source[6..].Trim() : source);
                lines[i] = "";
            }
            else if (line.StartsWith("#!", StringComparison.Ordinal))
            {
                directives.Add(line[2..].Trim());
                lines[i] = "";
            }
        }
        return new MagicLines(string.Join("\n", lines), packages, sources, directives);
    }

    [GeneratedRegex("""^#r\s+"nuget:\s*(?<spec>[^"]+)"\s*$""", RegexOptions.IgnoreCase)]
    private static partial Regex NugetReference();

    [GeneratedRegex("""^#i\s+"(?<src>[^"]+)"\s*$""")]
    private static partial Regex SourceLine();
}

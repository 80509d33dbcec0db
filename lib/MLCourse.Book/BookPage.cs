using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MLCourse.Notebooks;

namespace MLCourse.Book;

/// <summary>Whether a page is a lecture chapter or a homework exercise.</summary>
public enum PageKind
{
    /// <summary>A chapter from notebooks/.</summary>
    Chapter,
    /// <summary>A homework exercise from exercises/ (never its solution).</summary>
    Homework,
}

/// <summary>When, in which mode and on which device a notebook was executed (stored in its metadata under <c>mlcourse.executed</c>).</summary>
/// <param name="At">When the run ended (UTC).</param>
/// <param name="Mode"><c>quick</c> or <c>full</c>.</param>
/// <param name="Device">The device the chapters ran on (cpu, cuda).</param>
/// <param name="SourceSha256">The SHA-256 of the source notebook that was executed (to tell a stale copy).</param>
/// <param name="Build">Which sources of the library and engine ran it (<see cref="LibraryKey"/>): a copy from other sources is stale too.</param>
public sealed record ExecutionStamp(DateTimeOffset At, string Mode, string Device, string SourceSha256, string Build = "")
{
    /// <summary>Writes the stamp into the notebook's metadata.</summary>
    public void WriteTo(Notebook notebook)
    {
        var mlcourse = notebook.Metadata["mlcourse"] as JsonObject ?? new JsonObject();
        mlcourse["executed"] = new JsonObject
        {
            ["at"] = At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["mode"] = Mode, ["device"] = Device, ["source_sha256"] = SourceSha256, ["build"] = Build,
        };
        notebook.Metadata["mlcourse"] = mlcourse;
    }

    /// <summary>The stamp an executed notebook carries, or null.</summary>
    public static ExecutionStamp? ReadFrom(Notebook notebook)
    {
        if (notebook.Metadata["mlcourse"]?["executed"] is not JsonObject e) return null;
        try
        {
            return new ExecutionStamp(DateTimeOffset.Parse(e["at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
                                      e["mode"]!.GetValue<string>(), e["device"]!.GetValue<string>(), e["source_sha256"]?.GetValue<string>() ?? "",
                                      e["build"]?.GetValue<string>() ?? "");
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or NullReferenceException)
        {
            return null;
        }
    }

    /// <summary>
    /// Which sources of the library and the engine a chapter ran with: the SHA-256 (first 16 hex digits) of every .cs,
    /// .csproj and .targets file under lib/MLCourse and lib/MLCourse.Notebooks, with Directory.Packages.props. An
    /// executed chapter is stale when they change, as when its notebook does.
    /// </summary>
    public static string LibraryKey(string repoRoot)
    {
        var files = new[] { "lib/MLCourse", "lib/MLCourse.Notebooks" }
            .Select(folder => Path.Combine(repoRoot, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".csproj", StringComparison.Ordinal) || f.EndsWith(".targets", StringComparison.Ordinal))
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"))
            .Append(Path.Combine(repoRoot, "Directory.Packages.props"))
            .Where(File.Exists)
            .Select(f => Path.GetRelativePath(repoRoot, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(file + "\n"));
            sha.AppendData(File.ReadAllBytes(Path.Combine(repoRoot, file)));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset())[..16];
    }

    /// <summary>The SHA-256 (hex) of a file.</summary>
    public static string Sha256(string path) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>The line each page shows: when, in which mode and on which device it ran.</summary>
    public string Describe() => $"Executed {At.UtcDateTime:yyyy-MM-dd HH:mm} UTC in {Mode} mode on {Device} by the workbook's engine (mlcourse book).";
}

/// <summary>One page of the book: a notebook (executed, or a homework exercise as released) and its place in the course.</summary>
/// <param name="Slug">The page's file name without .html (the notebook's name, e.g. <c>13-diffusion</c>).</param>
/// <param name="Kind">Chapter or homework.</param>
/// <param name="Notebook">The notebook to render (with outputs when executed).</param>
/// <param name="Stamp">When and how it was executed; null for a page shown without outputs.</param>
public sealed partial record BookPage(string Slug, PageKind Kind, Notebook Notebook, ExecutionStamp? Stamp)
{
    /// <summary>The notebook's first heading, e.g. <c>13 · Diffusion models (扩散模型): from noise to data…</c>.</summary>
    public string Heading => Notebook.Cells.Where(c => c.Kind == CellKind.Markdown)
        .Select(c => HeadingLine().Match(c.Source)).FirstOrDefault(m => m.Success)?.Groups["text"].Value.Trim() ?? Slug;

    /// <summary>The chapter number (<c>13</c>), or <c>HW</c> for homework.</summary>
    public string Number => Kind == PageKind.Homework ? "HW" : NumberPrefix().Match(Slug) is { Success: true } m ? m.Value : "";

    /// <summary>The English title without the number and without the Chinese terms.</summary>
    public string EnglishTitle
    {
        get
        {
            string title = Heading;
            title = LeadingLabel().Replace(title, "");
            title = ChineseParenthesis().Replace(title, "");
            return Regex.Replace(title, @"\s{2,}", " ").Trim();
        }
    }

    /// <summary>The Chinese terms of the title (<c>扩散模型</c>), joined with " · "; empty when it has none.</summary>
    public string ChineseTitle => string.Join(" · ", ChineseParenthesis().Matches(Heading).Select(m => m.Groups["zh"].Value.Trim()));

    [GeneratedRegex(@"^#\s+(?<text>.+)$", RegexOptions.Multiline)]
    private static partial Regex HeadingLine();

    [GeneratedRegex(@"^\d+")]
    private static partial Regex NumberPrefix();

    [GeneratedRegex(@"^(\d+|Homework)\s*·\s*")]
    private static partial Regex LeadingLabel();

    [GeneratedRegex(@"\s*\((?<zh>[^()]*\p{IsCJKUnifiedIdeographs}[^()]*)\)")]
    private static partial Regex ChineseParenthesis();
}

using System.Reflection;
using System.Text.Json;

namespace MLCourse.Data;

/// <summary>One file of a data set as the manifest (<c>data/datasets.json</c>) records it. Introduced in chapter 00.</summary>
/// <param name="Name">File name inside the set's folder (may contain <c>/</c>).</param>
/// <param name="Size">Size in bytes (0 when not recorded).</param>
/// <param name="Sha256">Lower-case hex SHA-256, or null.</param>
/// <param name="Md5">Lower-case hex MD5 (as upstream publishes it), or null.</param>
/// <param name="Urls">Download URLs, tried in order (empty when the file cannot be downloaded).</param>
public sealed record DataFileInfo(string Name, long Size, string? Sha256, string? Md5, IReadOnlyList<string> Urls);

/// <summary>One layout of a data set's files (e.g. the official tarball, or a repack). Introduced in chapter 00.</summary>
/// <param name="Name">Short name of the layout.</param>
/// <param name="Note">Where the files come from.</param>
/// <param name="Files">The files of this layout.</param>
public sealed record DataVariantInfo(string Name, string Note, IReadOnlyList<DataFileInfo> Files)
{
    /// <summary>True when every file has a URL, so <c>mlcourse data fetch</c> can download this layout.</summary>
    public bool Downloadable => Files.Count > 0 && Files.All(f => f.Urls.Count > 0);
}

/// <summary>A data set as the manifest records it: files, URLs, checksums, license, citation. Introduced in chapter 00.</summary>
/// <param name="Name">The set's name, which is also its folder name (e.g. <c>mnist</c>).</param>
/// <param name="Title">One line describing the set.</param>
/// <param name="Homepage">The upstream page.</param>
/// <param name="License">License as upstream states it.</param>
/// <param name="Citation">What to cite.</param>
/// <param name="SystemFolders">Folders where an operating-system package installs the set (searched last).</param>
/// <param name="Variants">Accepted layouts; the first downloadable one is what fetch downloads.</param>
/// <param name="Aliases">Short names the catalog also accepts (e.g. <c>covid-2021</c>).</param>
public sealed record DataSetInfo(string Name, string Title, string Homepage, string License, string Citation,
    IReadOnlyList<string> SystemFolders, IReadOnlyList<DataVariantInfo> Variants, IReadOnlyList<string> Aliases)
{
    /// <summary>The command that downloads this set.</summary>
    public string FetchCommand => $"mlcourse data fetch {Name}";

    /// <summary>True when some layout can be downloaded (every file has a URL).</summary>
    public bool Downloadable => Variants.Any(v => v.Downloadable);
}

/// <summary>Reads the manifest embedded in the library (the repository's <c>data/datasets.json</c>).</summary>
internal static class DataManifest
{
    internal const string ResourceName = "MLCourse.Data.datasets.json";
    private static readonly Lazy<IReadOnlyList<DataSetInfo>> sets = new(() => Parse(ReadEmbedded()));

    internal static IReadOnlyList<DataSetInfo> Sets => sets.Value;

    internal static DataSetInfo Get(string name) =>
        Sets.FirstOrDefault(s => s.Name.Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase)
                                 || s.Aliases.Any(a => a.Equals(name?.Trim(), StringComparison.OrdinalIgnoreCase)))
        ?? throw new DataSetException(
            $"Unknown data set '{name}'. Known sets: {string.Join(", ", Sets.Select(s => s.Aliases.Count > 0 ? $"{s.Name} ({string.Join(", ", s.Aliases)})" : s.Name))}.");

    private static string ReadEmbedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The library was built without its embedded {ResourceName}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    internal static IReadOnlyList<DataSetInfo> Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var result = new List<DataSetInfo>();
        foreach (var set in document.RootElement.GetProperty("sets").EnumerateArray())
        {
            var variants = set.GetProperty("variants").EnumerateArray().Select(v => new DataVariantInfo(
                v.GetProperty("name").GetString()!,
                v.TryGetProperty("note", out var note) ? note.GetString() ?? "" : "",
                v.GetProperty("files").EnumerateArray().Select(f => new DataFileInfo(
                    f.GetProperty("name").GetString()!,
                    f.TryGetProperty("size", out var size) ? size.GetInt64() : 0,
                    f.TryGetProperty("sha256", out var sha) ? sha.GetString()?.ToLowerInvariant() : null,
                    f.TryGetProperty("md5", out var md5) ? md5.GetString()?.ToLowerInvariant() : null,
                    f.TryGetProperty("urls", out var urls) ? urls.EnumerateArray().Select(u => u.GetString()!).ToArray() : []))
                    .ToArray())).ToArray();
            result.Add(new DataSetInfo(
                set.GetProperty("name").GetString()!,
                set.GetProperty("title").GetString()!,
                set.GetProperty("homepage").GetString()!,
                set.GetProperty("license").GetString()!,
                set.GetProperty("citation").GetString()!,
                set.TryGetProperty("systemFolders", out var folders) ? folders.EnumerateArray().Select(f => f.GetString()!).ToArray() : [],
                variants,
                set.TryGetProperty("aliases", out var aliases) ? aliases.EnumerateArray().Select(a => a.GetString()!).ToArray() : []));
        }
        return result;
    }
}

namespace MLCourse.Data;

/// <summary>
/// Where data sets are looked for, in order (DESIGN.md): an explicit path, <c>$MLCOURSE_DATA/NAME</c>,
/// the repository's <c>data/NAME</c> (the folder holding <c>MLCourse.slnx</c>, found by walking up from the
/// current directory), the user cache (<c>$XDG_CACHE_HOME/mlcourse/NAME</c> or <c>~/.cache/mlcourse/NAME</c>),
/// then folders where an operating-system package installs the set.
/// </summary>
internal static class DataLocator
{
    internal const string EnvironmentVariable = "MLCOURSE_DATA";

    /// <summary>The user cache root: <c>$XDG_CACHE_HOME/mlcourse</c>, else <c>~/.cache/mlcourse</c>.</summary>
    internal static string CacheRoot() =>
        CacheRoot(Environment.GetEnvironmentVariable("XDG_CACHE_HOME"), Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));

    internal static string CacheRoot(string? xdgCacheHome, string home) =>
        Path.Combine(!string.IsNullOrWhiteSpace(xdgCacheHome) ? xdgCacheHome : Path.Combine(home, ".cache"), "mlcourse");

    /// <summary>The repository root (the folder holding MLCourse.slnx), walking up from the current directory.</summary>
    internal static string? RepoRoot()
    {
        foreach (string start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "MLCourse.slnx"))) return dir.FullName;
        }
        return null;
    }

    /// <summary>The candidate folders of a set, in lookup order (an explicit path replaces them all).</summary>
    internal static IReadOnlyList<string> Candidates(DataSetInfo set, string? explicitPath = null) =>
        Candidates(set, explicitPath, Environment.GetEnvironmentVariable(EnvironmentVariable), RepoRoot(), CacheRoot());

    internal static IReadOnlyList<string> Candidates(DataSetInfo set, string? explicitPath, string? dataVariable, string? repoRoot, string cacheRoot)
    {
        if (!string.IsNullOrWhiteSpace(explicitPath)) return [Path.GetFullPath(explicitPath)];
        var list = new List<string>();
        if (!string.IsNullOrWhiteSpace(dataVariable)) list.Add(Path.GetFullPath(Path.Combine(dataVariable, set.Name)));
        if (repoRoot is not null) list.Add(Path.Combine(repoRoot, "data", set.Name));
        list.Add(Path.Combine(cacheRoot, set.Name));
        list.AddRange(set.SystemFolders);
        return list;
    }

    /// <summary>
    /// The variants whose files are all present in <paramref name="folder"/>, those whose file sizes also match
    /// first (a cheap way to tell same-named layouts apart without hashing).
    /// </summary>
    internal static IEnumerable<DataVariantInfo> CompleteVariants(DataSetInfo set, string folder)
    {
        if (!Directory.Exists(folder)) return [];
        var complete = set.Variants.Where(v => v.Files.All(f => File.Exists(Path.Combine(folder, f.Name)))).ToArray();
        return complete.OrderBy(v => v.Files.All(f => f.Size <= 0 || new FileInfo(Path.Combine(folder, f.Name)).Length == f.Size) ? 0 : 1);
    }

    /// <summary>The first candidate folder holding a complete variant, or null.</summary>
    internal static (string Folder, DataVariantInfo Variant)? TryFind(DataSetInfo set, string? explicitPath = null)
    {
        foreach (string folder in Candidates(set, explicitPath))
            if (CompleteVariants(set, folder).FirstOrDefault() is { } variant) return (folder, variant);
        return null;
    }

    /// <summary>
    /// The folder of a set. A downloadable set that is found nowhere is downloaded into the user cache on first use
    /// (as d2l does; checksummed, with a progress bar), unless <c>MLCOURSE_OFFLINE=1</c> or an explicit path was
    /// given; otherwise a <see cref="DataSetException"/> names the fetch command.
    /// </summary>
    internal static string Find(DataSetInfo set, string? explicitPath = null)
    {
        if (TryFind(set, explicitPath) is { } found) return found.Folder;
        if (explicitPath is null && set.Downloadable && !Course.IsTruthy(Environment.GetEnvironmentVariable("MLCOURSE_OFFLINE")))
        {
            try
            {
                DataCatalog.FetchAsync(set.Name).GetAwaiter().GetResult();
                if (TryFind(set) is { } fetched) return fetched.Folder;
            }
            catch (Exception e) when (e is DataSetException or HttpRequestException or IOException or TimeoutException)
            {
                throw Missing(set, null, $"Downloading it now failed: {e.Message.Split('\n')[0].TrimEnd(':')}.");
            }
        }
        throw Missing(set, explicitPath);
    }

    internal static DataSetException Missing(DataSetInfo set, string? explicitPath = null, string? detail = null)
    {
        var searched = Candidates(set, explicitPath);
        string expected = string.Join(" or ", set.Variants.Select(v => string.Join(" + ", v.Files.Select(f => f.Name))));
        string how = set.Downloadable
            ? $"Run `{set.FetchCommand}` to download it"
            : $"`{set.FetchCommand}` cannot download it ({set.Variants[0].Note}) Put its files";
        return new DataSetException(
            $"Data set '{set.Name}' was not found: expected {expected} in one of: {string.Join(", ", searched)}. "
            + $"{how} (into {Path.Combine(CacheRoot(), set.Name)}), or set {EnvironmentVariable} to a folder holding {set.Name}/."
            + (detail is null ? "" : " " + detail),
            explicitPath ?? searched.FirstOrDefault());
    }
}

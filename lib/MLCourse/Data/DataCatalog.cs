using System.Security.Cryptography;
using MLCourse.Training;

namespace MLCourse.Data;

/// <summary>Whether a data set was found, and where. Introduced in chapter 00 (<c>mlcourse data list</c>).</summary>
/// <param name="Set">The set as the manifest records it.</param>
/// <param name="Folder">The folder it was found in, or null when missing.</param>
/// <param name="Variant">Which layout was found (e.g. <c>official</c>, <c>repack</c>), or null.</param>
/// <param name="Searched">The folders looked in, in order.</param>
public sealed record DataSetLocation(DataSetInfo Set, string? Folder, string? Variant, IReadOnlyList<string> Searched)
{
    /// <summary>True when the set's files are all present in <see cref="Folder"/>.</summary>
    public bool Found => Folder is not null;

    /// <inheritdoc />
    public override string ToString() =>
        Found ? $"{Set.Name,-34} {Folder} ({Variant})" : $"{Set.Name,-34} missing: {MissingHint}";

    /// <summary>What to do when the set is missing: the fetch command, or where to put files that cannot be downloaded.</summary>
    public string MissingHint => Set.Downloadable
        ? Set.FetchCommand
        : $"not downloadable, put its files into $MLCOURSE_DATA/{Set.Name} (see data/datasets.json)";
}

/// <summary>The result of checking one file against the manifest. Introduced in chapter 00 (<c>mlcourse data verify</c>).</summary>
public enum FileStatus
{
    /// <summary>Size and checksums match.</summary>
    Ok,
    /// <summary>The file is there but its size or a checksum differs.</summary>
    Mismatch,
    /// <summary>The file is absent.</summary>
    Missing,
}

/// <summary>One file of a <see cref="VerifyResult"/>. Introduced in chapter 00 (<c>mlcourse data verify</c>).</summary>
/// <param name="Name">File name within the set.</param>
/// <param name="Path">Full path looked at.</param>
/// <param name="Status">Ok, mismatch or missing.</param>
/// <param name="Detail">What was expected and what was found.</param>
public sealed record FileCheck(string Name, string Path, FileStatus Status, string Detail);

/// <summary>Checksums of a data set's files recomputed. Introduced in chapter 00 (<c>mlcourse data verify</c>).</summary>
/// <param name="Name">The set's name.</param>
/// <param name="Folder">The folder checked, or null when the set was not found.</param>
/// <param name="Variant">The layout checked, or null.</param>
/// <param name="Files">Each file's status.</param>
public sealed record VerifyResult(string Name, string? Folder, string? Variant, IReadOnlyList<FileCheck> Files)
{
    /// <summary>True when the set was found and every file is <see cref="FileStatus.Ok"/>.</summary>
    public bool Ok => Folder is not null && Files.Count > 0 && Files.All(f => f.Status == FileStatus.Ok);

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {(Ok ? "ok" : "FAILED")} ({Folder ?? "not found"})" + Environment.NewLine
        + string.Join(Environment.NewLine, Files.Select(f => $"  {f.Status.ToString().ToLowerInvariant(),-8} {f.Name}  {f.Detail}"));
}

/// <summary>
/// The data sets the course uses: where each is found, download with checksum check, verification.
/// The <c>mlcourse data list|fetch|verify</c> command is a thin front end to this class.
/// The manifest is the repository's <c>data/datasets.json</c>, embedded in the library.
/// Introduced in chapter 00 (setup: getting the data).
/// </summary>
public static class DataCatalog
{
    private const int Attempts = 3;
    private const int ChunkSize = 1 << 16;

    /// <summary>Every set the manifest knows.</summary>
    public static IReadOnlyList<DataSetInfo> Sets => DataManifest.Sets;

    /// <summary>The user cache where <c>FetchAsync</c> writes: <c>$XDG_CACHE_HOME/mlcourse</c> or <c>~/.cache/mlcourse</c>.</summary>
    public static string CacheFolder => DataLocator.CacheRoot();

    /// <summary>The manifest entry of one set (throws <see cref="DataSetException"/> for an unknown name).</summary>
    public static DataSetInfo Get(string name) => DataManifest.Get(name);

    /// <summary>Each set: the folder it was found in (lookup order of DESIGN.md), or missing.</summary>
    public static IReadOnlyList<DataSetLocation> List() => Sets.Select(s => Locate(s.Name)).ToArray();

    /// <summary>Where one set is found; <paramref name="path"/>, when given, is the only folder looked in.</summary>
    public static DataSetLocation Locate(string name, string? path = null)
    {
        var set = Get(name);
        var found = DataLocator.TryFind(set, path);
        return new DataSetLocation(set, found?.Folder, found?.Variant.Name, DataLocator.Candidates(set, path));
    }

    /// <summary>
    /// Recomputes the checksums of a set's files where the set is found (or in <paramref name="path"/>).
    /// When several layouts are present, the first whose files all match is reported.
    /// </summary>
    public static VerifyResult Verify(string name, string? path = null)
    {
        var set = Get(name);
        var found = DataLocator.TryFind(set, path);
        if (found is null)
        {
            string folder = DataLocator.Candidates(set, path)[0];
            var variant = set.Variants[0];
            return new VerifyResult(set.Name, null, null, variant.Files.Select(f =>
                new FileCheck(f.Name, System.IO.Path.Combine(folder, f.Name), FileStatus.Missing, $"not found; run `{set.FetchCommand}`")).ToArray());
        }
        VerifyResult? first = null;
        foreach (var variant in DataLocator.CompleteVariants(set, found.Value.Folder))
        {
            var result = new VerifyResult(set.Name, found.Value.Folder, variant.Name,
                variant.Files.Select(f => Check(f, System.IO.Path.Combine(found.Value.Folder, f.Name))).ToArray());
            if (result.Ok) return result;
            first ??= result;
        }
        return first!;
    }

    /// <summary>
    /// Downloads a set into <paramref name="destination"/> (default: <see cref="CacheFolder"/>/NAME) with a progress
    /// bar. Each file is written to a temporary file, checked against the manifest's size and checksums, then
    /// renamed into place; a failed file is retried 3 times (cycling through its URLs). No partial file is ever
    /// left behind. Files already present and correct are not downloaded again. Stops between chunks when the
    /// notebook cell is interrupted or <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    /// <returns>The folder holding the set.</returns>
    public static Task<string> FetchAsync(string name, string? destination = null, CancellationToken cancellationToken = default) =>
        FetchAsync(name, destination, SharedClient.Value, cancellationToken);

    private static readonly Lazy<HttpClient> SharedClient = new(() =>
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(30) };
        var client = new HttpClient(handler) { Timeout = TimeSpan.FromMinutes(2) }; // until the headers arrive
        
        client.DefaultRequestHeaders.UserAgent.ParseAdd("MLCourse/0.1 (+data fetch)");
        return client;
    });

    /// <summary>Pause between attempts; tests set it to zero.</summary>
    internal static TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A download that receives nothing for this long is abandoned (and retried).</summary>
    internal static TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    internal static async Task<string> FetchAsync(string name, string? destination, HttpClient client, CancellationToken cancellationToken)
    {
        var set = Get(name);
        var variant = set.Variants.FirstOrDefault(v => v.Downloadable)
            ?? throw new DataSetException(
                $"Data set '{set.Name}' cannot be downloaded automatically: {set.Variants[0].Note} "
                + $"Put its files ({string.Join(", ", set.Variants[0].Files.Select(f => f.Name))}) into "
                + $"{System.IO.Path.Combine(CacheFolder, set.Name)} or into $MLCOURSE_DATA/{set.Name}.");
        string folder = System.IO.Path.GetFullPath(destination ?? System.IO.Path.Combine(CacheFolder, set.Name));
        Directory.CreateDirectory(folder);
        foreach (var file in variant.Files) RemoveStaleParts(System.IO.Path.Combine(folder, file.Name));
        var todo = variant.Files.Where(f => Check(f, System.IO.Path.Combine(folder, f.Name)).Status != FileStatus.Ok).ToArray();
        if (todo.Length == 0) return folder;

        using var bar = new ProgressBar(todo.Sum(f => f.Size), $"fetch {set.Name}");
        foreach (var file in todo)
        {
            string target = System.IO.Path.Combine(folder, file.Name);
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(target)!);
            long before = bar.Done;
            var errors = new List<string>();
            for (int attempt = 1; attempt <= Attempts; attempt++)
            {
                string url = file.Urls[(attempt - 1) % file.Urls.Count];
                bar.Report(before, $"{file.Name} (try {attempt})");
                string? error = await DownloadOnceAsync(client, url, file, target, bar, cancellationToken).ConfigureAwait(false);
                if (error is null) break;
                errors.Add($"try {attempt}, {url}: {error}");
                if (attempt == Attempts)
                    throw new DataSetException(
                        $"Could not download {file.Name} of data set '{set.Name}' after {Attempts} tries:" + Environment.NewLine
                        + string.Join(Environment.NewLine, errors), target);
                bar.Report(before);
                if (RetryDelay > TimeSpan.Zero) await Task.Delay(RetryDelay, cancellationToken).ConfigureAwait(false);
            }
        }
        return folder;
    }

    /// <summary>One download into a temporary file; null on success, else why it failed. Never leaves the temporary file.</summary>
    private static async Task<string?> DownloadOnceAsync(HttpClient client, string url, DataFileInfo file, string target,
        ProgressBar bar, CancellationToken cancellationToken)
    {
        string temp = $"{target}.{Guid.NewGuid():N}.part";
        try
        {
            using var response = await client.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            long length = 0;
            await using (var input = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false))
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, ChunkSize))
            {
                var buffer = new byte[ChunkSize];
                using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                int read;
                while (true)
                {
                    stall.CancelAfter(StallTimeout);
                    try
                    {
                        read = await input.ReadAsync(buffer, stall.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        return $"no data received for {StallTimeout.TotalSeconds:0} s";
                    }
                    if (read == 0) break;
                    cancellationToken.ThrowIfCancellationRequested();
                    Interactive.ThrowIfInterrupted();
                    await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                    sha.AppendData(buffer, 0, read);
                    md5.AppendData(buffer, 0, read);
                    length += read;
                    bar.Advance(read);
                }
            }
            string? mismatch = Compare(file, length, Convert.ToHexStringLower(sha.GetHashAndReset()), Convert.ToHexStringLower(md5.GetHashAndReset()));
            if (mismatch is not null) return mismatch;
            File.Move(temp, target, overwrite: true);
            return null;
        }
        catch (Exception e) when (e is HttpRequestException or IOException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return e.Message;
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>Deletes temporary files a killed download of <paramref name="target"/> may have left.</summary>
    private static void RemoveStaleParts(string target)
    {
        string? dir = System.IO.Path.GetDirectoryName(target);
        if (dir is null || !Directory.Exists(dir)) return;
        foreach (string part in Directory.EnumerateFiles(dir, System.IO.Path.GetFileName(target) + ".*.part"))
        {
            try { File.Delete(part); } catch (IOException) { }
        }
    }

    internal static FileCheck Check(DataFileInfo file, string path)
    {
        if (!File.Exists(path)) return new FileCheck(file.Name, path, FileStatus.Missing, "not found");
        long length = new FileInfo(path).Length;
        string? sha = null, md5 = null;
        if (file.Sha256 is not null || file.Md5 is not null)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, ChunkSize);
            if (file.Sha256 is not null) sha = Convert.ToHexStringLower(SHA256.HashData(stream));
            stream.Position = 0;
            if (file.Md5 is not null) md5 = Convert.ToHexStringLower(MD5.HashData(stream));
        }
        string? mismatch = Compare(file, length, sha, md5);
        return mismatch is null
            ? new FileCheck(file.Name, path, FileStatus.Ok, file.Sha256 is not null ? $"sha256 {sha}" : $"md5 {md5}")
            : new FileCheck(file.Name, path, FileStatus.Mismatch, mismatch);
    }

    private static string? Compare(DataFileInfo file, long length, string? sha, string? md5)
    {
        if (file.Size > 0 && length != file.Size) return $"size {length} bytes, expected {file.Size}";
        if (file.Sha256 is not null && sha != file.Sha256) return $"sha256 {sha}, expected {file.Sha256}";
        if (file.Md5 is not null && md5 != file.Md5) return $"md5 {md5}, expected {file.Md5}";
        return null;
    }
}

using System.IO.Compression;

namespace MLCourse.Tests.Data;

/// <summary>
/// Where the tests find the real data files: <c>$MLCOURSE_DATA/NAME</c>, else <c>shared/data/NAME</c> in the
/// repository root or the first folder above it that has one (CI clones the repository with <c>shared/</c>
/// beside it), else an operating-system folder (Debian's Fashion-MNIST and scikit-learn packages).
/// </summary>
internal static class TestData
{
    public static string? Folder(string set, params string[] systemFolders)
    {
        string? env = Environment.GetEnvironmentVariable("MLCOURSE_DATA");
        if (!string.IsNullOrWhiteSpace(env) && Directory.Exists(Path.Combine(env, set))) return Path.Combine(env, set);
        for (var dir = new DirectoryInfo(Repo.Root); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", set);
            if (Directory.Exists(candidate)) return candidate;
        }
        return systemFolders.FirstOrDefault(Directory.Exists);
    }

    public static string SkipReason(string set) =>
        $"the real '{set}' files are absent (looked in $MLCOURSE_DATA/{set} and shared/data/{set} beside the repository)";
}

/// <summary>A temporary folder deleted after the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder() => Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "mlcourse-test-" + Guid.NewGuid().ToString("N"));

    public string File(string name, byte[] content)
    {
        string path = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    public string Text(string name, string content) => File(name, System.Text.Encoding.UTF8.GetBytes(content));

    public static byte[] Gzip(byte[] data)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true)) gzip.Write(data);
        return memory.ToArray();
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>
/// The sandbox one grading worker runs in (docs/grading.md, "How a submission is sandboxed"): a throwaway folder with
/// the notebook, a fresh unprivileged uid (when the grader is root), a PID namespace whose processes all die with the
/// worker, no network, the check folders and the reference solutions hidden, the grader's checkout and binaries
/// read-only, a minimal environment and rlimits (memory, processes, file size, CPU time). The worker's reports travel
/// on file descriptor 3; its standard output goes to /dev/null.
/// </summary>
internal sealed class WorkerSandbox : IDisposable
{
    /// <summary>Largest file a submission may write, in MB.</summary>
    public const long MaxFileSizeMb = 1024;

    /// <summary>Most processes and threads the worker's uid may have (.NET and libtorch start dozens of threads).</summary>
    public const int MaxProcesses = 1024;

    private readonly string folder;

    private WorkerSandbox(string folder, ProcessStartInfo start, string notebookPath, IReadOnlyList<string> notes, bool channelOnFd3)
    {
        this.folder = folder;
        Start = start;
        NotebookPath = notebookPath;
        Notes = notes;
        ChannelOnFd3 = channelOnFd3;
    }

    /// <summary>How to start the worker.</summary>
    public ProcessStartInfo Start { get; }

    /// <summary>The notebook's copy in the throwaway folder (the worker's working directory).</summary>
    public string NotebookPath { get; }

    /// <summary>What could not be applied here (said, never silent).</summary>
    public IReadOnlyList<string> Notes { get; }

    /// <summary>True when the worker reports on fd 3 (Linux); else on its standard output, tagged with the nonce.</summary>
    public bool ChannelOnFd3 { get; }

    /// <summary>Prepares the throwaway folder and the start info of one worker.</summary>
    public static WorkerSandbox Create(WorkerConfig config, GradeOptions options)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-sandbox-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)).ToLowerInvariant());
        Directory.CreateDirectory(folder);
        string notebook = Path.Combine(folder, Path.GetFileName(config.NotebookPath));
        File.WriteAllText(notebook, config.NotebookJson);

        // A fresh uid per worker: no other submission's files, processes or limits are shared. Only when that user can
        // run the grader's binaries (a .NET under /root, as a per-user install puts it, cannot be run by anyone else).
        var early = new List<string>();
        int? uid = null;
        if (ProcessSandbox.IsRoot)
        {
            var unreadable = Binaries(options.WorkerFileName).FirstOrDefault(p => !OthersCanRead(p));
            if (unreadable is null) uid = RandomNumberGenerator.GetInt32(200_000, 1_000_000_000);
            else early.Add($"the worker runs as root: {unreadable} is not readable by other users (install .NET and the grader where every user can read them).");
        }
        if (OperatingSystem.IsLinux())
        {
            if (uid is int u) foreach (var path in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Append(folder))
                    _ = chown(path, u, u);
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var inner = new WorkerCommand(options.WorkerFileName, options.WorkerArguments).StartInfo(folder);
        inner.Environment.Clear();
        foreach (string name in new[] { "PATH", "LANG", "LC_ALL", "DOTNET_ROOT", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "DOTNET_CLI_TELEMETRY_OPTOUT" })
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value) inner.Environment[name] = value;
        inner.Environment["HOME"] = folder;
        inner.Environment["TMPDIR"] = folder;
        inner.Environment["DOTNET_CLI_HOME"] = folder;
        inner.Environment["MLCOURSE_QUICK"] = config.Quick ? "1" : "0";
        long heapLimit = options.MemoryLimitMb * 1024 * 1024 / 4 * 3;
        inner.Environment["DOTNET_GCHeapHardLimit"] = "0x" + heapLimit.ToString("X", CultureInfo.InvariantCulture);

        // Data: $MLCOURSE_DATA, else the user cache (under a home the worker's uid cannot enter): bound read-only.
        var binds = new List<(string, string)>();
        string? data = Environment.GetEnvironmentVariable("MLCOURSE_DATA") is { Length: > 0 } d ? Path.GetFullPath(d)
            : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
                           : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "mlcourse");
        if (Directory.Exists(data))
        {
            string target = Path.Combine(folder, ".data");
            binds.Add((data, target));
            inner.Environment["MLCOURSE_DATA"] = ProcessSandbox.NamespaceProblem is null ? target : data;
        }

        // Packages a homework declares (checks/HOMEWORK/packages.txt) are restored from the grading machine's NuGet cache:
        // the worker has no network and a throwaway home, so it gets that cache read-only, as its only package source (a
        // package missing there fails to restore with NuGet's own message: restore it once on the grading machine, e.g. by
        // running the solution).
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? Path.GetFullPath(p)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        if (Directory.Exists(packages))
        {
            string target = Path.Combine(folder, ".nuget-packages");
            binds.Add((packages, target));
            string seen = ProcessSandbox.NamespaceProblem is null ? target : packages;
            inner.Environment["NUGET_PACKAGES"] = seen;
            // The same folder is the only package source (it keeps every .nupkg in a feed's layout): no network is tried.
            inner.Environment["RestoreSources"] = seen;
        }

        var hidden = new List<string>(options.CheckFolders.Select(Path.GetFullPath));
        var readOnly = new List<string>();
        if (CheckFiles.DefaultFolder(options.InstallationFolder) is { } installed) hidden.Add(installed);
        if (Checkout(options.InstallationFolder) is { } root)
        {
            readOnly.Add(root);
            hidden.Add(Path.Combine(root, "solutions"));
        }
        readOnly.Add(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        if (Path.IsPathFullyQualified(options.WorkerFileName)) readOnly.Add(Path.GetDirectoryName(options.WorkerFileName)!);
        readOnly.Add(Path.GetDirectoryName(Path.GetFullPath(config.NotebookPath))!);

        // A read-only folder above the throwaway one (a submission graded straight from /tmp) would make it read-only too.
        readOnly = readOnly.Where(p => !(folder + Path.DirectorySeparatorChar).StartsWith(p.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal)).ToList();
        var (start, notes) = ProcessSandbox.Wrap(inner, new SandboxOptions
        {
            NoNetwork = true,
            Uid = uid,
            Hidden = hidden,
            ReadOnly = readOnly,
            Binds = binds,
            MemoryLimitMb = options.MemoryLimitMb,
            // RLIMIT_NPROC counts every process of the uid: only a fresh uid's count is the worker's own.
            MaxProcesses = uid is null ? null : MaxProcesses,
            MaxFileSizeMb = MaxFileSizeMb,
            CpuSeconds = (int)Math.Min(int.MaxValue, Math.Ceiling(options.TotalTimeout.TotalSeconds * Environment.ProcessorCount) + 60),
            ChannelOnFd3 = OperatingSystem.IsLinux(),
        });
        var all = early.Concat(notes).ToList();
        if (!Directory.Exists("/proc/self"))
            all.Add(OperatingSystem.IsLinux() && ProcessSandbox.Which("prlimit") is not null
                ? $"no /proc: memory is capped only by RLIMIT_DATA ({options.MemoryLimitMb} MB), not by resident size."
                : "no /proc and no prlimit: no memory cap could be applied to the worker.");
        return new WorkerSandbox(folder, start, notebook, all, OperatingSystem.IsLinux());
    }

    /// <summary>The worker's program and, for an app host or <c>dotnet</c>, the .NET runtime it runs on.</summary>
    private static IEnumerable<string> Binaries(string program)
    {
        string? path = Path.IsPathFullyQualified(program) ? program : ProcessSandbox.Which(program);
        if (path is null) yield break;
        yield return Path.GetFullPath(path);
        string resolved = new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? path;
        if (resolved != path) yield return resolved;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root) yield return root;
        else if (Path.GetFileNameWithoutExtension(resolved) != "dotnet" && ProcessSandbox.Which("dotnet") is { } dotnet)
            yield return new FileInfo(dotnet).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? dotnet;
    }

    /// <summary>True when a user other than the owner can reach and read <paramref name="path"/> (every folder above it searchable).</summary>
    private static bool OthersCanRead(string path)
    {
        if (!OperatingSystem.IsLinux()) return true;
        try
        {
            var entry = new FileInfo(path);
            if (entry.Exists && !entry.UnixFileMode.HasFlag(UnixFileMode.OtherRead)) return false;
            for (var dir = entry.Exists ? entry.Directory : new DirectoryInfo(path); dir is not null; dir = dir.Parent)
                if (dir.Exists && !dir.UnixFileMode.HasFlag(UnixFileMode.OtherExecute)) return false;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>The checkout (folder holding MLCourse.slnx) above <paramref name="start"/>, or null.</summary>
    private static string? Checkout(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLCourse.slnx"))) return dir.FullName;
        return null;
    }

    /// <summary>Deletes the throwaway folder (after the worker and everything it started are gone).</summary>
    public void Dispose()
    {
        try { Directory.Delete(folder, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int chown(string path, int owner, int group);
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace MLCourse.Notebooks;

/// <summary>
/// What <see cref="ProcessSandbox.Wrap"/> puts around a worker process besides its own PID namespace (always, where
/// namespaces work: a small shell is the namespace's init, and when the worker ends, normally or not, the kernel kills
/// every process it started, detached ones included, before the wrapper exits). Linux; elsewhere nothing applies.
/// </summary>
public sealed record SandboxOptions
{
    /// <summary>No network (a fresh network namespace with only a down loopback).</summary>
    public bool NoNetwork { get; init; }

    /// <summary>When the caller is root: run the worker as this uid/gid with no supplementary groups. Null: keep the caller's.</summary>
    public int? Uid { get; init; }

    /// <summary>Folders the worker must not see: an empty read-only tmpfs is mounted over each (a private mount namespace).</summary>
    public IReadOnlyList<string> Hidden { get; init; } = [];

    /// <summary>Folders the worker may read but not write: bind-mounted read-only over themselves.</summary>
    public IReadOnlyList<string> ReadOnly { get; init; } = [];

    /// <summary>Folders bind-mounted read-only at a new place (source, target): e.g. a data folder under an unreadable home.</summary>
    public IReadOnlyList<(string Source, string Target)> Binds { get; init; } = [];

    /// <summary>RLIMIT_DATA in MB (private writable memory, what malloc and the GC commit), or null.</summary>
    public long? MemoryLimitMb { get; init; }

    /// <summary>RLIMIT_NPROC (threads count: .NET and libtorch start dozens), or null. Counted per uid.</summary>
    public int? MaxProcesses { get; init; }

    /// <summary>RLIMIT_FSIZE in MB: the largest file the worker may write, or null.</summary>
    public long? MaxFileSizeMb { get; init; }

    /// <summary>RLIMIT_CPU in seconds (all threads together), or null.</summary>
    public int? CpuSeconds { get; init; }

    /// <summary>
    /// Give the worker the caller's standard output as file descriptor <see cref="ProcessSandbox.ChannelFd"/> and
    /// /dev/null as its standard output: what the worker's code prints to fd 1 never reaches the caller.
    /// </summary>
    public bool ChannelOnFd3 { get; init; }
}

/// <summary>
/// Starts worker processes inside a sandbox made of standard Linux tools (util-linux <c>unshare</c>, <c>setpriv</c>,
/// <c>prlimit</c>): a PID namespace whose processes all die with the worker, optionally no network, a private mount
/// namespace with hidden and read-only folders, an unprivileged uid, and rlimits. Where a piece is unavailable (not
/// Linux, no <c>unshare</c>, no permission) the worker starts without it and <see cref="Wrap"/> says so in its notes;
/// nothing fails silently.
/// </summary>
public static class ProcessSandbox
{
    /// <summary>The file descriptor of the report channel when <see cref="SandboxOptions.ChannelOnFd3"/> is set.</summary>
    public const int ChannelFd = 3;

    private static readonly Lazy<string?> unshareProblem = new(ProbeUnshare);

    /// <summary>True when the current process runs as root (uid 0) on Linux.</summary>
    public static bool IsRoot => OperatingSystem.IsLinux() && geteuid() == 0;

    /// <summary>Null when PID/mount/network namespaces can be made here; else why not (one line).</summary>
    public static string? NamespaceProblem => unshareProblem.Value;

    /// <summary>
    /// Turns <paramref name="inner"/> (program, arguments, working directory, environment, redirections) into the same
    /// process started inside the sandbox. Returns the start info to use and what could not be applied.
    /// </summary>
    public static (ProcessStartInfo Start, IReadOnlyList<string> Notes) Wrap(ProcessStartInfo inner, SandboxOptions options)
    {
        var notes = new List<string>();
        if (!OperatingSystem.IsLinux())
        {
            notes.Add("no sandbox on this operating system: the worker runs as this user, with network, and its child processes may outlive it.");
            return (inner, notes);
        }
        string? problem = NamespaceProblem;
        if (problem is not null)
            notes.Add($"no PID, mount or network namespace ({problem}): processes the worker starts may outlive it, folders are not hidden, the network stays on.");

        var script = new StringBuilder("set -e\n");
        if (problem is null)
        {
            // Inside the new mount namespace (root there): read-only binds first, then the hidden folders on top.
            foreach (var path in options.ReadOnly.Where(Directory.Exists).Distinct())
                script.Append(CultureInfo.InvariantCulture, $"mount --bind {Quote(path)} {Quote(path)}; mount -o remount,bind,ro {Quote(path)}\n");
            foreach (var (source, target) in options.Binds.Where(b => Directory.Exists(b.Source)))
                script.Append(CultureInfo.InvariantCulture, $"mkdir -p {Quote(target)}; mount --bind {Quote(source)} {Quote(target)}; mount -o remount,bind,ro {Quote(target)}\n");
            foreach (var path in options.Hidden.Where(Directory.Exists).Distinct())
                script.Append(CultureInfo.InvariantCulture, $"mount -t tmpfs -o ro,size=4k,mode=0555 mlcourse-hidden {Quote(path)}\n");
        }
        script.Append("set +e\n");

        var command = new List<string>();
        if (options.Uid is int uid)
        {
            if (IsRoot && Which("setpriv") is { } setpriv)
                command.AddRange([setpriv, $"--reuid={uid}", $"--regid={uid}", "--clear-groups", "--no-new-privs", "--"]);
            else notes.Add("the worker runs as the grader's own user (not root, or no setpriv): it can write wherever that user can.");
        }
        var limits = new List<string>();
        if (options.MemoryLimitMb is long mb) limits.Add($"--data={mb * 1024 * 1024}");
        if (options.MaxProcesses is int nproc) limits.Add($"--nproc={nproc}");
        if (options.MaxFileSizeMb is long fsize) limits.Add($"--fsize={fsize * 1024 * 1024}");
        if (options.CpuSeconds is int cpu) limits.Add($"--cpu={cpu}");
        if (limits.Count > 0)
        {
            if (Which("prlimit") is { } prlimit) command.AddRange([prlimit, .. limits, "--core=0", "--"]);
            else notes.Add("no prlimit: no memory, process, file-size or CPU limits (rlimits) could be applied.");
        }
        command.Add(inner.FileName);
        command.AddRange(inner.ArgumentList);
        // Not `exec`: the shell stays the namespace's init and waits; when it exits, the kernel kills what is left.
        script.Append("\"$@\"");
        if (options.ChannelOnFd3) script.Append(CultureInfo.InvariantCulture, $" {ChannelFd}>&1 1>/dev/null");
        script.Append("\nexit $?\n");

        var start = new ProcessStartInfo
        {
            RedirectStandardInput = inner.RedirectStandardInput,
            RedirectStandardOutput = inner.RedirectStandardOutput,
            RedirectStandardError = inner.RedirectStandardError,
            UseShellExecute = false,
            StandardOutputEncoding = inner.StandardOutputEncoding,
            StandardErrorEncoding = inner.StandardErrorEncoding,
            WorkingDirectory = inner.WorkingDirectory,
        };
        start.Environment.Clear();
        foreach (var (key, value) in inner.Environment) start.Environment[key] = value;
        if (problem is null)
        {
            start.FileName = Which("unshare")!;
            if (!IsRoot) start.ArgumentList.Add("--map-root-user");
            foreach (var flag in new[] { "--pid", "--fork", "--kill-child", "--mount-proc" }) start.ArgumentList.Add(flag);
            if (options.NoNetwork) start.ArgumentList.Add("--net");
            start.ArgumentList.Add("/bin/sh");
        }
        else
        {
            start.FileName = "/bin/sh";
            if (options.NoNetwork) notes.Add("the network stays on.");
        }
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script.ToString());
        start.ArgumentList.Add("mlcourse-sandbox");
        foreach (var part in command) start.ArgumentList.Add(part);
        return (start, notes);
    }

    /// <summary>
    /// In the worker: the report channel the sandbox opened (fd 3) as a stream, marked close-on-exec so that processes
    /// the worker's code starts do not inherit it; null when the worker was started without it.
    /// </summary>
    public static Stream? OpenChannel()
    {
        if (!OperatingSystem.IsLinux() || fcntl(ChannelFd, 1 /* F_GETFD */, 0) < 0) return null;
        fcntl(ChannelFd, 2 /* F_SETFD */, 1 /* FD_CLOEXEC */);
        return new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(ChannelFd, ownsHandle: true), FileAccess.Write, 1);
    }

    /// <summary>The full path of a program on PATH (or in /usr/bin, /bin, /usr/sbin, /sbin), or null.</summary>
    public static string? Which(string program)
    {
        var dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/bin", "/usr/sbin", "/sbin"]);
        return dirs.Select(d => Path.Combine(d, program)).FirstOrDefault(File.Exists);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string? ProbeUnshare()
    {
        if (!OperatingSystem.IsLinux()) return "not Linux";
        if (Which("unshare") is not { } unshare) return "no unshare program";
        try
        {
            var probe = new ProcessStartInfo(unshare) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            if (!IsRoot) probe.ArgumentList.Add("--map-root-user");
            foreach (var a in new[] { "--pid", "--fork", "--kill-child", "--mount-proc", "--net", "/bin/sh", "-c", "mount -t tmpfs none /mnt && umount /mnt" })
                probe.ArgumentList.Add(a);
            using var process = Process.Start(probe)!;
            string error = process.StandardError.ReadToEnd();
            if (!process.WaitForExit(10_000))
            {
                process.Kill(entireProcessTree: true);
                return "unshare did not answer";
            }
            return process.ExitCode == 0 ? null : $"unshare: {error.Trim().Split('\n')[0]}";
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException)
        {
            return e.Message;
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int cmd, int arg);
}

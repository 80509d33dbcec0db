using System.Runtime.InteropServices;

namespace MLCourse;

/// <summary>
/// Settings of the C library's allocator (glibc <c>malloc</c>), which holds every tensor's memory. With glibc's
/// defaults, large tensor buffers are mapped and unmapped on every batch, so each epoch touches fresh pages
/// (millions of page faults, seconds of system time) and the heap fragments. <see cref="Tune"/> keeps freed memory
/// for reuse instead. The workbook's engine (runner, kernel, grader, bench) calls it at start-up; see
/// docs/performance.md. Introduced in chapter 00 (setup).
/// </summary>
public static class Malloc
{
    /// <summary>Blocks up to this size come from the heap (reused) instead of fresh mappings: 32 MiB, glibc's maximum.</summary>
    public const int MmapThreshold = 32 << 20;

    /// <summary>Free memory at the top of the heap kept before it is returned to the system: 2 GiB.</summary>
    public const int TrimThreshold = int.MaxValue;

    /// <summary>Extra memory requested whenever the heap grows: 64 MiB.</summary>
    public const int TopPad = 64 << 20;

    private const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3;

    /// <summary>True once <see cref="Tune"/> has changed the settings in this process.</summary>
    public static bool Tuned { get; private set; }

    /// <summary>
    /// Applies the settings above with <c>mallopt</c> on Linux with glibc; does nothing elsewhere, when the
    /// environment already sets <c>MALLOC_MMAP_THRESHOLD_</c>, or when <c>MLCOURSE_MALLOC=default</c>.
    /// Returns whether the settings are now in effect.
    /// </summary>
    public static bool Tune()
    {
        if (Tuned) return true;
        if (!OperatingSystem.IsLinux()) return false;
        if (string.Equals(Environment.GetEnvironmentVariable("MLCOURSE_MALLOC"), "default", StringComparison.OrdinalIgnoreCase)) return false;
        if (Environment.GetEnvironmentVariable("MALLOC_MMAP_THRESHOLD_") is not null) return Tuned = true;
        try
        {
            Tuned = mallopt(M_MMAP_THRESHOLD, MmapThreshold) == 1
                    & mallopt(M_TRIM_THRESHOLD, TrimThreshold) == 1
                    & mallopt(M_TOP_PAD, TopPad) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Tuned = false;   // not glibc (e.g. musl)
        }
        return Tuned;
    }

    /// <summary>The same settings as environment variables, for a child process (e.g. a Python peer).</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentVariables { get; } = new Dictionary<string, string>
    {
        ["MALLOC_MMAP_THRESHOLD_"] = MmapThreshold.ToString(),
        ["MALLOC_TRIM_THRESHOLD_"] = TrimThreshold.ToString(),
        ["MALLOC_TOP_PAD_"] = TopPad.ToString(),
    };

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int mallopt(int param, int value);
}

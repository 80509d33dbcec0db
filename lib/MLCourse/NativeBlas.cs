using System.Runtime.InteropServices;

namespace MLCourse;

/// <summary>
/// Which BLAS computes libtorch's float matrix products on the CPU. TorchSharp's libtorch links Intel's MKL into
/// <c>libtorch_cpu.so</c>; on AMD processors MKL does not take its AVX-512 path, and on the course's 2-core AMD EPYC
/// machine a 2048³ product ran at about 230 GFLOP/s against OpenBLAS's 260 (docs/performance.md). libtorch calls the
/// Fortran BLAS entry points (<c>sgemm_</c>, …) through its procedure linkage table, so a BLAS loaded into the global
/// symbol scope before libtorch answers those calls instead. <see cref="UseRequested"/> does that when
/// <c>MLCOURSE_BLAS=openblas</c> is set and an OpenBLAS is installed (Debian: <c>libopenblas0</c>). It is opt-in: the
/// last digits of results change with the BLAS, and .NET Interactive, which loads libtorch itself, keeps MKL.
/// </summary>
public static class NativeBlas
{
    /// <summary>The environment variable that asks for OpenBLAS: <c>MLCOURSE_BLAS=openblas</c>.</summary>
    public const string Variable = "MLCOURSE_BLAS";

    /// <summary>The OpenBLAS library loaded by <see cref="UseRequested"/>, or null (libtorch's own MKL).</summary>
    public static string? Loaded { get; private set; }

    private static readonly string[] Candidates =
    [
        "libopenblas.so.0",                                                   // the system's choice (ldconfig)
        "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    ];

    /// <summary>
    /// Loads OpenBLAS ahead of libtorch when <c>MLCOURSE_BLAS=openblas</c>; must run before the first TorchSharp call
    /// (the command line calls it at start-up). Returns whether OpenBLAS is now in place; says why on standard error
    /// when it was asked for and cannot be.
    /// </summary>
    public static bool UseRequested()
    {
        if (Loaded is not null) return true;
        if (!string.Equals(Environment.GetEnvironmentVariable(Variable), "openblas", StringComparison.OrdinalIgnoreCase)) return false;
        if (!OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine($"{Variable}=openblas works on Linux only; using libtorch's own BLAS.");
            return false;
        }
        if (LibtorchLoaded())
        {
            Console.Error.WriteLine($"{Variable}=openblas came too late: libtorch is already loaded with its own BLAS.");
            return false;
        }
        foreach (var candidate in Candidates)
        {
            try
            {
                if (dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) == IntPtr.Zero) continue;
            }
            catch (DllNotFoundException) { return false; }   // no libc of the expected name (not glibc)
            Loaded = candidate;
            return true;
        }
        Console.Error.WriteLine($"{Variable}=openblas: no libopenblas.so.0 found (Debian/Ubuntu: apt-get install libopenblas0); using libtorch's own BLAS.");
        return false;
    }

    private static bool LibtorchLoaded()
    {
        try { return File.ReadLines("/proc/self/maps").Any(line => line.Contains("libtorch_cpu", StringComparison.Ordinal)); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    private const int RTLD_NOW = 0x002, RTLD_GLOBAL = 0x100;

    [DllImport("libc", EntryPoint = "dlopen")]
    private static extern IntPtr dlopen(string file, int mode);
}

using System.Runtime.InteropServices;

namespace MLCourse;

/// <summary>
/// Which BLAS computes libtorch's float matrix products on the CPU. TorchSharp's libtorch links Intel's MKL into
/// <c>libtorch_cpu.so</c>; on AMD processors MKL does not take its AVX-512 path, and on the course's 2-core AMD EPYC
/// machine a 2048³ product ran at about 230 GFLOP/s against OpenBLAS's 260 (docs/performance.md). libtorch calls the
/// Fortran BLAS entry points (<c>sgemm_</c>, …) through its procedure linkage table, so a BLAS loaded into the global
/// symbol scope before libtorch answers those calls instead. <see cref="Choose()"/> does that on AMD processors when an
/// OpenBLAS is installed (Debian/Ubuntu: <c>libopenblas0</c>), or wherever <c>MLCOURSE_BLAS=openblas</c> asks for it;
/// <c>MLCOURSE_BLAS=mkl</c> keeps libtorch's own. The command line (runner, kernel, grader, bench) and the .NET
/// Interactive extension call it before libtorch loads, so both engines compute with the same BLAS. The last digits
/// of results depend on the BLAS, as they do on the number of threads.
/// </summary>
public static class NativeBlas
{
    /// <summary>The environment variable that chooses: <c>openblas</c>, <c>mkl</c>, or <c>auto</c> (the default: OpenBLAS on AMD processors).</summary>
    public const string Variable = "MLCOURSE_BLAS";

    /// <summary>The OpenBLAS library loaded by <see cref="Choose()"/>, or null (libtorch's own MKL).</summary>
    public static string? Loaded { get; private set; }

    private static readonly string[] Candidates =
    [
        "libopenblas.so.0",                                                   // the system's choice (ldconfig)
        "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    ];

    /// <summary>
    /// Loads OpenBLAS ahead of libtorch when <see cref="Variable"/> asks for it, or by default on an AMD processor; must run
    /// before the first TorchSharp call. Returns whether OpenBLAS is now in place; says why on standard error when it was
    /// asked for by name and cannot be.
    /// </summary>
    public static bool Choose() => Choose(Environment.GetEnvironmentVariable(Variable));

    /// <summary><see cref="Choose()"/> with the variable's value given (null: unset).</summary>
    internal static bool Choose(string? setting)
    {
        if (Loaded is not null) return true;
        string choice = (setting ?? "auto").Trim().ToLowerInvariant();
        bool asked = choice == "openblas";
        if (!asked && (choice != "auto" || !AmdProcessor())) return false;
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            if (asked) Console.Error.WriteLine($"{Variable}=openblas works on Linux x64 only; using libtorch's own BLAS.");
            return false;
        }
        if (LibtorchLoaded())
        {
            if (asked) Console.Error.WriteLine($"{Variable}=openblas came too late: libtorch is already loaded with its own BLAS.");
            return false;
        }
        foreach (var candidate in Candidates)
        {
            try
            {
                if (dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) == IntPtr.Zero) continue;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }   // not glibc
            Loaded = candidate;
            return true;
        }
        if (asked) Console.Error.WriteLine($"{Variable}=openblas: no libopenblas.so.0 found (Debian/Ubuntu: apt-get install libopenblas0); using libtorch's own BLAS.");
        return false;
    }

    /// <summary>Whether this is an AMD processor (Linux: the vendor in /proc/cpuinfo), where MKL does not take its fastest path.</summary>
    private static bool AmdProcessor()
    {
        try
        {
            return File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo").Take(64)
                .Any(line => line.StartsWith("vendor_id", StringComparison.Ordinal) && line.Contains("AuthenticAMD", StringComparison.Ordinal));
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
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

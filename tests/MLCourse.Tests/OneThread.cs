using System.Runtime.CompilerServices;
using TorchSharp;

namespace MLCourse.Tests;

/// <summary>
/// xunit runs test classes in parallel, and `dotnet test` runs the two test assemblies side by side: on a 2-core
/// machine, libtorch's default of one OpenMP thread per core per caller oversubscribes the cores, and OpenMP teams
/// that wait for a descheduled member stall (runs 10–50× slower were seen under load). Tests therefore use one
/// torch thread, and so do the kernels and workers they start (through the environment).
/// </summary>
internal static class OneThread
{
    [ModuleInitializer]
    internal static void Set()
    {
        foreach (var name in new[] { "OMP_NUM_THREADS", "MKL_NUM_THREADS" })
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, "1");
        try { torch.set_num_threads(1); }
        catch (Exception) { /* no native libtorch: the tests that need it report that themselves */ }
    }
}

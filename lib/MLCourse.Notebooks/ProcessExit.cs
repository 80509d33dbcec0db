using System.Runtime.InteropServices;

namespace MLCourse.Notebooks;

/// <summary>How a front end (runner, grading worker, kernel) ends its process.</summary>
public static class ProcessExit
{
    /// <summary>
    /// Flushes standard output and error and ends the process with <paramref name="code"/>. While a cell that timed
    /// out is still running (<see cref="ScriptSession.RunawayCells"/>), the process ends without running native exit
    /// handlers: libtorch's tear down its thread pools and allocator under the running cell and crash the process
    /// (SIGSEGV) after its work was done and reported.
    /// </summary>
    public static void Now(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (ScriptSession.RunawayCells > 0 && !OperatingSystem.IsWindows())
        {
            try { ExitImmediately(code); }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
        }
        Environment.Exit(code);
    }

    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitImmediately(int code);
}

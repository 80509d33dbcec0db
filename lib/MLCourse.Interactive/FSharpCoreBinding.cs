using System.Reflection;
using System.Runtime.Loader;

namespace MLCourse.DotNetInteractive;

/// <summary>
/// Plotly.NET 6.0.0 is compiled against FSharp.Core 10.1.0.0, but .NET Interactive 1.0.712001 runs on its own
/// FSharp.Core 10.0.0.0, and the runtime will not load an older version for a newer request. Only the one copy can be
/// loaded (the kernel's F# support needs it), so a request for a newer FSharp.Core is answered with the kernel's:
/// Plotly.NET uses nothing of FSharp.Core that 10.0 lacks (every chapter's charts draw this way; the .NET Interactive
/// test pass checks it).
/// </summary>
internal static class FSharpCoreBinding
{
    private static int installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += (_, name) => Resolve(name);
        AppDomain.CurrentDomain.AssemblyResolve += (_, e) => Resolve(new AssemblyName(e.Name));
    }

    private static Assembly? Resolve(AssemblyName requested)
    {
        if (!string.Equals(requested.Name, "FSharp.Core", StringComparison.OrdinalIgnoreCase)) return null;
        var loaded = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == "FSharp.Core");
        if (loaded is not null) return loaded;
        try
        {
            return AssemblyLoadContext.Default.LoadFromAssemblyName(new AssemblyName("FSharp.Core"));
        }
        catch (IOException)
        {
            return null;
        }
    }
}

using System.Diagnostics;
using System.Text;

namespace MLCourse.Tests.Kernel;

/// <summary>
/// Finds the real Jupyter clients (a python3 with jupyter_client, nbclient and nbconvert: Debian's
/// python3-jupyter-client, python3-nbclient, jupyter-nbconvert) and the built `mlcourse` CLI, and runs them as child
/// processes with timeouts.
/// </summary>
internal static class JupyterClients
{
    public const string Missing =
        "Jupyter clients not installed (python3 with jupyter_client, nbclient, nbconvert): "
        + "apt-get install -y python3-jupyter-client python3-nbclient jupyter-nbconvert";

    private static readonly Lazy<string?> python = new(FindPython);

    /// <summary>A python that imports jupyter_client, nbclient and nbconvert, or null.</summary>
    public static string? Python => python.Value;

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The CLI built alongside the tests (same configuration).</summary>
    public static string CliDll
    {
        get
        {
            string configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
            string dll = Path.Combine(RepoRoot, "lib", "MLCourse.Cli", "bin", configuration, "net10.0", "MLCourse.Cli.dll");
            Assert.True(File.Exists(dll), $"{dll} is missing: build lib/MLCourse.Cli ({configuration}) first.");
            return dll;
        }
    }

    public static string Dotnet =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";

    /// <summary>Runs a program; returns its exit code and interleaved stdout+stderr. Kills it (and its children) at the timeout.</summary>
    public static (int ExitCode, string Output) Run(string program, IEnumerable<string> arguments, TimeSpan timeout,
                                                    IDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            lock (output) output.AppendLine($"(killed after {timeout.TotalSeconds:0} s)");
            return (-1, output.ToString());
        }
        process.WaitForExit();
        lock (output) return (process.ExitCode, output.ToString());
    }

    private static string? FindPython()
    {
        foreach (var candidate in new[] { "python3", "/usr/bin/python3", "python" })
        {
            try
            {
                var (code, _) = Run(candidate, ["-c", "import jupyter_client, nbclient, nbconvert"], TimeSpan.FromSeconds(30));
                if (code == 0) return candidate;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not installed
            }
        }
        return null;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLCourse.slnx"))) return dir.FullName;
        throw new InvalidOperationException("MLCourse.slnx not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A fact that is skipped, with the install command in the message, when the Jupyter clients are missing.</summary>
public sealed class JupyterFactAttribute : FactAttribute
{
    public JupyterFactAttribute()
    {
        if (JupyterClients.Python is null) Skip = JupyterClients.Missing;
    }
}

/// <summary>The kernelspec installed once into a temporary prefix by the real `mlcourse kernel install`.</summary>
public sealed class InstalledKernel : IDisposable
{
    public InstalledKernel()
    {
        Prefix = Directory.CreateTempSubdirectory("mlcourse-kernel-").FullName;
        if (JupyterClients.Python is null) return;
        // No --name: the install picks ".net-csharp" (the notebooks' kernel name) unless another kernel owns it.
        var (code, output) = JupyterClients.Run(JupyterClients.Dotnet,
            [JupyterClients.CliDll, "kernel", "install", "--prefix", Prefix], TimeSpan.FromSeconds(60), Environment);
        Assert.True(code == 0, "mlcourse kernel install failed:\n" + output);
        InstallOutput = output;
        var kernels = new DirectoryInfo(Path.Combine(Prefix, "share", "jupyter", "kernels")).GetDirectories();
        Name = Assert.Single(kernels).Name;
    }

    /// <summary>The kernelspec name the install chose.</summary>
    public string Name { get; } = "";

    public string Prefix { get; }

    public string InstallOutput { get; } = "";

    /// <summary>Points Jupyter at the temporary prefix only.</summary>
    public Dictionary<string, string> Environment => new()
    {
        ["JUPYTER_PATH"] = Path.Combine(Prefix, "share", "jupyter"),
        ["JUPYTER_DATA_DIR"] = Path.Combine(Prefix, "data"),
        ["JUPYTER_RUNTIME_DIR"] = Path.Combine(Prefix, "runtime"),
        ["JUPYTER_CONFIG_DIR"] = Path.Combine(Prefix, "config"),
        ["PYTHONUNBUFFERED"] = "1",
    };

    public void Dispose()
    {
        try { Directory.Delete(Prefix, recursive: true); }
        catch (IOException) { }
    }
}

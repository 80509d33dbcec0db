using System.CommandLine;
using MLCourse.Kernel;

namespace MLCourse.Cli;

/// <summary><c>mlcourse kernel start --connection-file F</c> and <c>mlcourse kernel install [--user|--prefix DIR] [--name NAME]</c>.</summary>
internal static class KernelCommand
{
    public static Command Create()
    {
        var plotly = new Option<PlotlyMode>("--plotly")
        {
            Description = "Embed: the first chart of a session carries plotly.js for front ends that draw the HTML fallback (works offline); Native: charts carry Plotly's MIME type and an HTML fallback only (front ends that draw it natively).",
            DefaultValueFactory = _ => PlotlyMode.Embed,
        };
        return new Command("kernel", "The Jupyter kernel: open the workbook's notebooks in VS Code's Jupyter extension, JupyterLab or the classic notebook.")
        {
            Start(plotly),
            Install(plotly),
        };
    }

    private static Command Start(Option<PlotlyMode> plotly)
    {
        var connectionFile = new Option<string>("--connection-file", "-f") { Description = "The connection file Jupyter writes.", Required = true };
        var command = new Command("start", "Run the kernel (what kernel.json starts; Jupyter passes the connection file).") { connectionFile, plotly };
        command.SetAction(parse =>
        {
            ConnectionInfo connection;
            try { connection = ConnectionInfo.Load(parse.GetValue(connectionFile)!); }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"mlcourse kernel start: {e.Message}");
                return 2;
            }
            // The engine routes Console.Error into cells; the kernel logs to the real stderr, which Jupyter shows in its log.
            var log = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true };
            using var kernel = new JupyterKernel(connection, new KernelOptions { Plotly = parse.GetValue(plotly) }, log);
            return kernel.Run();
        });
        return command;
    }

    private static Command Install(Option<PlotlyMode> plotly)
    {
        var user = new Option<bool>("--user") { Description = "Install for the current user (the default)." };
        var prefix = new Option<string?>("--prefix") { Description = "Install under PREFIX/share/jupyter/kernels (e.g. a virtual environment, or a test folder)." };
        var name = new Option<string?>("--name") { Description = $"Kernelspec name (default: {KernelSpec.PolyglotName} when free, else {KernelSpec.FallbackName})." };
        var command = new Command("install", "Write the kernelspec so Jupyter clients can start this kernel.") { user, prefix, name, plotly };
        command.SetAction(parse =>
        {
            string? prefixFolder = parse.GetValue(prefix);
            if (prefixFolder is not null && parse.GetValue(user))
            {
                Console.Error.WriteLine("mlcourse kernel install: give --user or --prefix, not both.");
                return 2;
            }
            string kernels = prefixFolder is null ? KernelSpec.UserKernelsFolder() : KernelSpec.PrefixKernelsFolder(prefixFolder);
            var argv = StartCommandLine().Concat(["kernel", "start", "--plotly", parse.GetValue(plotly).ToString(), "--connection-file"]).ToList();
            KernelSpecInstallation installed;
            try { installed = KernelSpec.Install(kernels, argv, parse.GetValue(name), KernelSpec.SearchFolders()); }
            catch (Exception e) when (e is InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"mlcourse kernel install: {e.Message}");
                return 1;
            }
            Console.WriteLine($"✓ Installed the C# kernel \"{installed.Name}\" ({KernelSpec.DisplayName}) in {installed.Folder}");
            foreach (var note in installed.Notes) Console.WriteLine("  " + note);
            Console.WriteLine($"  It starts: {string.Join(' ', argv.Select(Quote))} {{connection_file}}");
            Console.WriteLine("  Rebuild or move the checkout? Run this command again.");
            Console.WriteLine();
            Console.WriteLine("Next: open a notebook (e.g. notebooks/00-setup.ipynb) in VS Code with the Jupyter extension, click the kernel");
            Console.WriteLine($"picker at the top right (\"Select Kernel\"), choose \"Jupyter Kernel…\" and then \"{KernelSpec.DisplayName}\".");
            Console.WriteLine("In JupyterLab or the classic notebook: Kernel → Change Kernel.");
            if (prefixFolder is not null)
                Console.WriteLine($"Jupyter finds kernels under a prefix when it is that environment's, or with JUPYTER_PATH={Path.Combine(Path.GetFullPath(prefixFolder), "share", "jupyter")}.");
            return 0;
        });
        return command;
    }

    /// <summary>The absolute command that starts this CLI: the dotnet host and this dll (robust to PATH and DOTNET_ROOT), or the apphost.</summary>
    private static IEnumerable<string> StartCommandLine()
    {
        string dll = typeof(KernelCommand).Assembly.Location;
        string? process = Environment.ProcessPath;
        string? dotnet = process is not null && Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? process
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : FindOnPath("dotnet");
        if (dotnet is not null && dll.Length > 0) return [Path.GetFullPath(dotnet), dll];
        return [process ?? "mlcourse"];
    }

    private static string? FindOnPath(string program)
    {
        string file = OperatingSystem.IsWindows() ? program + ".exe" : program;
        foreach (var folder in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, file);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static string Quote(string s) => s.Contains(' ') ? $"\"{s}\"" : s;
}

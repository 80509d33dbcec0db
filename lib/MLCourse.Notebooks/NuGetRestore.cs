using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace MLCourse.Notebooks;

/// <summary>The assemblies a restore produced.</summary>
/// <param name="Assemblies">Managed assemblies to reference, newest restore first.</param>
/// <param name="Packages">Package id → restored version.</param>
internal sealed record RestoredPackages(IReadOnlyList<string> Assemblies, IReadOnlyDictionary<string, string> Packages);

/// <summary>
/// Restores <c>#r "nuget: …"</c> packages the engine does not carry, as .NET Interactive did: a small project in
/// the user cache references them, <c>dotnet build</c> restores it from the configured NuGet sources (plus the
/// cell's <c>#i</c> sources) and copies the assemblies and native assets into its output, and the session then
/// references those assemblies. Native libraries are found through the runtimes folders of that output.
/// </summary>
internal static class NuGetRestore
{
    private static readonly object gate = new();
    private static readonly List<string> nativeFolders = [];
    private static readonly Dictionary<string, string> managedByName = new(StringComparer.OrdinalIgnoreCase);
    private static bool hooked;

    /// <summary>Where restore projects live: <c>$XDG_CACHE_HOME/mlcourse/nuget</c> or <c>~/.cache/mlcourse/nuget</c>.</summary>
    public static string CacheFolder
    {
        get
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(root, "mlcourse", "nuget");
        }
    }

    /// <summary>Restores every requested package together (one dependency graph) or returns the error text.</summary>
    /// <remarks>Cancelling <paramref name="cancellationToken"/> (an interrupt) stops the restore within a fraction of a second
    /// and raises <see cref="OperationCanceledException"/>.</remarks>
    public static RestoredPackages Restore(IReadOnlyList<PackageRequest> packages, IReadOnlyList<PackageRequest> asked,
                                           IReadOnlyList<string> sources, string workingDirectory, TimeSpan timeout,
                                           CancellationToken cancellationToken = default)
    {
        var resolvedSources = sources.Select(s => ResolveSource(s, workingDirectory)).Distinct().ToList();
        string key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
            string.Join("\n", packages.Select(p => $"{p.Name.ToLowerInvariant()}={p.Version}").Order()) + "\n" + string.Join("\n", resolvedSources))))[..16];
        string folder = Path.Combine(CacheFolder, key);
        Directory.CreateDirectory(folder);
        string project = Path.Combine(folder, "restore.csproj");
        File.WriteAllText(project, ProjectText(packages, resolvedSources));
        // An empty Directory.Build.props/targets and global.json stop settings of an enclosing folder from leaking in.
        File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Directory.Build.targets"), "<Project />");
        File.WriteAllText(Path.Combine(folder, "Directory.Packages.props"), "<Project><PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup></Project>");

        var (exitCode, output) = Run("dotnet", ["build", project, "-c", "Release", "-nologo", "-v", "quiet", "-p:TreatWarningsAsErrors=false"], folder, timeout, cancellationToken);
        if (exitCode != 0)
            throw new PackageRestoreException(Explain(asked, output));

        string bin = Path.Combine(folder, "bin", "Release", "net10.0");
        var assemblies = Directory.GetFiles(bin, "*.dll")
            .Where(p => !Path.GetFileName(p).Equals("restore.dll", StringComparison.OrdinalIgnoreCase) && IsManaged(p))
            .ToList();
        Hook(bin, assemblies);
        return new RestoredPackages(assemblies, ReadVersions(folder, packages));
    }

    private static string ProjectText(IReadOnlyList<PackageRequest> packages, IReadOnlyList<string> sources)
    {
        var items = new XElement("ItemGroup", packages.Select(p =>
            new XElement("PackageReference", new XAttribute("Include", p.Name), new XAttribute("Version", p.Version ?? "*"))));
        var properties = new XElement("PropertyGroup",
            new XElement("TargetFramework", "net10.0"),
            new XElement("AssemblyName", "restore"),
            new XElement("EnableDefaultItems", "false"),
            new XElement("CopyLocalLockFileAssemblies", "true"),
            new XElement("GenerateDocumentationFile", "false"),
            new XElement("NoWarn", "NU1603;NU1701;NU1702;CS2008"),
            new XElement("RestoreAdditionalProjectSources", string.Join(";", sources)));
        return new XDocument(new XElement("Project", new XAttribute("Sdk", "Microsoft.NET.Sdk"), properties, items)).ToString();
    }

    private static string ResolveSource(string source, string workingDirectory) =>
        Uri.TryCreate(source, UriKind.Absolute, out var uri) && !uri.IsFile ? source : Path.GetFullPath(source, workingDirectory);

    private static string Explain(IReadOnlyList<PackageRequest> packages, string output)
    {
        var errors = output.Split('\n').Select(l => l.Trim()).Where(l => l.Contains("error NU", StringComparison.Ordinal) || l.Contains("error MSB", StringComparison.Ordinal))
            .Select(l =>
            {
                int at = l.IndexOf("error ", StringComparison.Ordinal);
                string text = l[at..];
                int project = text.LastIndexOf(" [", StringComparison.Ordinal);
                return project > 0 && text.EndsWith(".csproj]", StringComparison.Ordinal) ? text[..project] : text;
            }).Distinct().ToList();
        string names = string.Join(", ", packages.Select(p => p.Version is null ? p.Name : $"{p.Name} {p.Version}"));
        string detail = errors.Count > 0 ? string.Join(" ", errors) : output.Trim().Split('\n').LastOrDefault() ?? "";
        return $"could not restore {names}: {detail} Check the package id and version (the error names the nearest version the sources have), "
               + "or add a source with #i \"nuget: URL-or-folder\".";
    }

    private static Dictionary<string, string> ReadVersions(string folder, IReadOnlyList<PackageRequest> packages)
    {
        var versions = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string assets = Path.Combine(folder, "obj", "project.assets.json");
        if (!File.Exists(assets)) return versions;
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(assets));
        if (!doc.RootElement.TryGetProperty("libraries", out var libraries)) return versions;
        foreach (var library in libraries.EnumerateObject())
        {
            var parts = library.Name.Split('/');
            if (parts.Length == 2 && packages.Any(p => p.Name.Equals(parts[0], StringComparison.OrdinalIgnoreCase)))
                versions[parts[0]] = parts[1];
        }
        return versions;
    }

    private static bool IsManaged(string path)
    {
        try
        {
            AssemblyName.GetAssemblyName(path);
            return true;
        }
        catch (BadImageFormatException) { return false; }
    }

    /// <summary>Lets the runtime find the restored assemblies' dependencies and native libraries.</summary>
    private static void Hook(string bin, IEnumerable<string> assemblies)
    {
        lock (gate)
        {
            foreach (var path in assemblies) managedByName[Path.GetFileNameWithoutExtension(path)] = path;
            string rid = RuntimeInformation.RuntimeIdentifier;
            string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
            string arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
            foreach (var candidate in new[] { rid, $"{os}-{arch}", os }.Distinct())
            {
                string native = Path.Combine(bin, "runtimes", candidate, "native");
                if (Directory.Exists(native) && !nativeFolders.Contains(native)) nativeFolders.Add(native);
            }
            if (!nativeFolders.Contains(bin)) nativeFolders.Add(bin);
            if (hooked) return;
            hooked = true;
            AssemblyLoadContext.Default.Resolving += (context, name) =>
            {
                lock (gate)
                    return name.Name is not null && managedByName.TryGetValue(name.Name, out var path) ? context.LoadFromAssemblyPath(path) : null;
            };
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += (_, name) =>
            {
                string[] fileNames = OperatingSystem.IsWindows() ? [name, name + ".dll"]
                    : OperatingSystem.IsMacOS() ? [name, $"lib{name}.dylib", $"{name}.dylib"]
                    : [name, $"lib{name}.so", $"{name}.so"];
                lock (gate)
                    foreach (var folder in nativeFolders)
                        foreach (var file in fileNames)
                            if (File.Exists(Path.Combine(folder, file)) && NativeLibrary.TryLoad(Path.Combine(folder, file), out var handle))
                                return handle;
                return IntPtr.Zero;
            };
        }
    }

    private static (int ExitCode, string Output) Run(string file, IEnumerable<string> arguments, string folder, TimeSpan timeout,
                                                     CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("MSBuildExtensionsPath");
        start.Environment.Remove("MSBuildSDKsPath");
        using var process = Process.Start(start) ?? throw new PackageRestoreException("could not start `dotnet` to restore packages.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        var clock = Stopwatch.StartNew();
        while (!process.WaitForExit(100))
        {
            if (!cancellationToken.IsCancellationRequested && clock.Elapsed < timeout) continue;
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            cancellationToken.ThrowIfCancellationRequested();
            throw new PackageRestoreException($"restoring packages took longer than {timeout.TotalSeconds:0} s and was stopped.");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>A package that could not be restored; the message says what to do.</summary>
public sealed class PackageRestoreException(string message) : Exception(message);

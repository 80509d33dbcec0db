using System.Reflection;

namespace MLCourse.Notebooks;

/// <summary>
/// <c>#r "nuget: …"</c> for the packages the engine carries: they are already loaded, so the request binds to
/// the carried version (with a note when another version was asked). Anything else is a clear error.
/// </summary>
public static class Packages
{
    /// <summary>Package id (case-insensitive) → the carried assembly that stands for it.</summary>
    public static readonly IReadOnlyDictionary<string, Assembly> Carried = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase)
    {
        ["MLCourse"] = typeof(MLCourse.Course).Assembly,
        ["TorchSharp"] = typeof(TorchSharp.torch).Assembly,
        ["TorchSharp-cpu"] = typeof(TorchSharp.torch).Assembly,
        ["TorchSharp-cuda-linux"] = typeof(TorchSharp.torch).Assembly,
        ["TorchSharp-cuda-windows"] = typeof(TorchSharp.torch).Assembly,
        ["libtorch-cpu"] = typeof(TorchSharp.torch).Assembly,
        ["libtorch-cpu-linux-x64"] = typeof(TorchSharp.torch).Assembly,
        ["Plotly.NET"] = typeof(Plotly.NET.GenericChart).Assembly,
        ["Plotly.NET.CSharp"] = typeof(Plotly.NET.CSharp.Chart).Assembly,
        ["Plotly.NET.Interactive"] = typeof(Plotly.NET.GenericChart).Assembly,
        ["Microsoft.Data.Analysis"] = typeof(Microsoft.Data.Analysis.DataFrame).Assembly,
        ["Microsoft.DotNet.Interactive.Formatting"] = typeof(Microsoft.DotNet.Interactive.Formatting.Formatter).Assembly,
    };

    /// <summary>The TorchSharp backend package this engine was built with (TorchBackend in Directory.Build.props).</summary>
    public static string TorchBackend { get; } =
        typeof(Packages).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "TorchBackendPackage")?.Value
        ?? "TorchSharp-cpu";

    /// <summary>
    /// The note for a cell that asks for a TorchSharp backend other than the one the engine carries (null when it asks
    /// for the carried one, or for something else). The engine cannot swap native backends in a running process, so
    /// the request is answered with the carried backend, and the note says so and how to switch.
    /// </summary>
    public static string? BackendNote(string requested, string carried)
    {
        bool isBackend = requested.StartsWith("TorchSharp-", StringComparison.OrdinalIgnoreCase)
                         || requested.StartsWith("libtorch-", StringComparison.OrdinalIgnoreCase);
        if (!isBackend || requested.StartsWith(carried, StringComparison.OrdinalIgnoreCase)) return null;
        bool wantsCuda = requested.Contains("cuda", StringComparison.OrdinalIgnoreCase);
        bool hasCuda = carried.Contains("cuda", StringComparison.OrdinalIgnoreCase);
        if (wantsCuda == hasCuda) return null;
        return wantsCuda
            ? $"{requested}: this engine was built with {carried}, so TorchSharp runs on the CPU. To use a GPU, rebuild the "
              + "workbook with the CUDA backend (`dotnet build -p:TorchBackend=cuda`, README \"GPU\") and restart the kernel.\n"
            : $"{requested}: this engine was built with {carried}; it keeps that backend (the CPU is still usable through it).\n";
    }

    /// <summary>The version of a carried package as NuGet spells it.</summary>
    public static string VersionOf(Assembly assembly)
    {
        string? informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        string version = informational?.Split('+')[0] ?? assembly.GetName().Version?.ToString(3) ?? "?";
        return version;
    }

    /// <summary>
    /// Binds the cell's requests for carried packages (with a note when another version was asked) and returns the
    /// requests the engine must restore.
    /// </summary>
    internal static List<PackageRequest> BindCarried(MagicLines magic, IOutputSink sink)
    {
        var toRestore = new List<PackageRequest>();
        foreach (var request in magic.Packages)
        {
            if (BackendNote(request.Name, TorchBackend) is { } note) sink.Add(new StreamOutput("stderr", note));
            if (!Carried.TryGetValue(request.Name, out var assembly))
            {
                toRestore.Add(request);
                continue;
            }
            string carried = VersionOf(assembly);
            if (request.Version is { } asked && !asked.Contains('*') && !asked.StartsWith('[') && !asked.StartsWith('(')
                && !string.Equals(asked, carried, StringComparison.OrdinalIgnoreCase))
                sink.Add(new StreamOutput("stdout", $"{request.Name}: using the engine's version {carried} (the cell asked for {asked}).\n"));
        }
        return toRestore;
    }
}

/// <summary>Cells in other languages (Polyglot allowed them): markdown and HTML are shown, the rest skipped with a note.</summary>
internal static class OtherLanguages
{
    public static void Show(string language, string source, IOutputSink sink)
    {
        string body = string.Join("\n", source.Replace("\r\n", "\n").Split('\n').SkipWhile(l => !l.TrimStart().StartsWith("#!", StringComparison.Ordinal)).Skip(1));
        switch (language)
        {
            case "markdown" or "md":
                sink.Add(new DisplayOutput(new Dictionary<string, string> { ["text/markdown"] = body, ["text/plain"] = body }));
                break;
            case "html":
                sink.Add(new DisplayOutput(new Dictionary<string, string> { ["text/html"] = body, ["text/plain"] = body }));
                break;
            case "mermaid":
                sink.Add(new DisplayOutput(new Dictionary<string, string> { ["text/markdown"] = $"```mermaid\n{body}\n```", ["text/plain"] = body }));
                break;
            default:
                sink.Add(new StreamOutput("stderr", $"Skipped a #!{language} cell: this engine runs C# only.\n"));
                break;
        }
    }
}

/// <summary><c>#!</c> directives other than languages.</summary>
internal static class Directives
{
    public static void Run(string directive, IOutputSink sink)
    {
        string name = directive.Split(' ', 2)[0].ToLowerInvariant();
        string text = name switch
        {
            "about" => $"MLCourse notebook engine {Packages.VersionOf(typeof(ScriptSession).Assembly)}: C# (Roslyn "
                       + $"{Packages.VersionOf(typeof(Microsoft.CodeAnalysis.CSharp.CSharpCompilation).Assembly)}) on .NET {Environment.Version}.\n",
            "lsmagic" => "Magic lines: #r \"nuget: Name[, Version]\", #r \"path.dll\", #i \"nuget: source\", #load \"file.csx\", #!time, #!about, #!lsmagic\n",
            _ => $"#!{name} is not supported by this engine; the line was ignored.\n",
        };
        sink.Add(new StreamOutput(name is "about" or "lsmagic" ? "stdout" : "stderr", text));
    }
}

using MLCourse.DotNetInteractive;
using MLCourse.Notebooks;
using MLCourse.Tests.Kernel;

namespace MLCourse.Tests.Interactive;

/// <summary>The parts of the .NET Interactive extension and of the backend switch that run without the kernel.</summary>
public class ExtensionTests
{
    private static string NuGetPackages =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } folder ? folder
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    [SkippableFact]
    public void The_extension_patches_libtorchsharp_exactly_as_the_build_does()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "the GLIBCXX patch is for Linux");
        string original = Path.Combine(NuGetPackages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        string built = Path.Combine(Path.GetDirectoryName(JupyterClients.CliDll)!, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        Assert.True(File.Exists(original), original + " is missing");
        byte[] elf = File.ReadAllBytes(original);
        Assert.Equal(1, ElfVersionNeeds.MarkWeak(elf, "GLIBCXX_3.4.32"));
        Assert.Equal(File.ReadAllBytes(built), elf);   // the same bytes as build/Glibcxx.targets wrote
        Assert.Equal(0, ElfVersionNeeds.MarkWeak(elf, "GLIBCXX_3.4.32"));
        Assert.Equal(0, ElfVersionNeeds.MarkWeak([1, 2, 3], "GLIBCXX_3.4.32"));
    }

    [SkippableFact]
    public void The_libstdcxx_probe_reads_the_loaded_library()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc/self/maps");
        Assert.True(TorchNative.LibStdCxxHas("GLIBCXX_3.4"));
        Assert.False(TorchNative.LibStdCxxHas("GLIBCXX_9.9.99"));
    }

    [Theory]
    [InlineData("TorchSharp-cuda-linux", "TorchSharp-cpu", true)]
    [InlineData("TorchSharp-cuda-windows", "TorchSharp-cpu", true)]
    [InlineData("TorchSharp-cpu", "TorchSharp-cpu", false)]
    [InlineData("TorchSharp-cuda-linux", "TorchSharp-cuda-linux", false)]
    [InlineData("TorchSharp-cpu", "TorchSharp-cuda-linux", true)]
    [InlineData("Plotly.NET", "TorchSharp-cpu", false)]
    [InlineData("TorchSharp", "TorchSharp-cpu", false)]
    public void A_request_for_another_backend_is_never_silently_replaced(string requested, string carried, bool noted)
    {
        string? note = Packages.BackendNote(requested, carried);
        Assert.Equal(noted, note is not null);
        if (note is not null && requested.Contains("cuda")) Assert.Contains("-p:TorchBackend=cuda", note);
    }

    [Fact]
    public async Task A_cell_asking_for_cuda_gets_the_note()
    {
        using var session = new ScriptSession(new SessionOptions());
        var sink = new OutputCollector();
        var result = await session.ExecuteAsync("#r \"nuget: TorchSharp-cuda-linux, 0.107.0\"\n1 + 1", sink);
        Assert.Equal(CellStatus.Ok, result.Status);
        var stderr = string.Concat(sink.Outputs.OfType<StreamOutput>().Where(s => s.Name == "stderr").Select(s => s.Text));
        Assert.Contains("built with TorchSharp-cpu", stderr);
        Assert.Contains("-p:TorchBackend=cuda", stderr);
    }

    [SkippableTheory]
    [InlineData("cpu", "TorchSharp-cpu")]
    [InlineData("cuda", "TorchSharp-cuda-linux")]
    public void One_build_switch_picks_the_backend_of_the_package_and_the_engine(string backend, string package)
    {
        Skip.If(OperatingSystem.IsWindows());
        foreach (var project in new[] { "lib/MLCourse.Interactive/MLCourse.Interactive.csproj", "lib/MLCourse.Notebooks/MLCourse.Notebooks.csproj" })
        {
            var (code, output) = JupyterClients.Run(JupyterClients.Dotnet,
                ["msbuild", project, "-getProperty:TorchBackendPackage", $"-p:TorchBackend={backend}", "-nologo"], TimeSpan.FromMinutes(2));
            Assert.True(code == 0, output);
            Assert.Equal(package, output.Trim());
        }
    }
}

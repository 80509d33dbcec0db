using System.Text.Json.Nodes;
using MLCourse.Kernel;

namespace MLCourse.Tests.Kernel;

public sealed class KernelSpecTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("mlcourse-spec-").FullName;
    private static readonly string[] argv = ["/usr/bin/dotnet", "/x/MLCourse.Cli.dll", "kernel", "start", "--connection-file"];

    private string Kernels(string name) => Path.Combine(root, name, "kernels");

    [Fact]
    public void Without_another_net_csharp_kernel_it_installs_under_the_notebooks_kernel_name()
    {
        var installed = KernelSpec.Install(Kernels("user"), argv, null, [Kernels("system")]);
        Assert.Equal(".net-csharp", installed.Name);
        var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(installed.Folder, "kernel.json")))!;
        Assert.Equal("C#", spec["language"]!.GetValue<string>());
        Assert.Equal("message", spec["interrupt_mode"]!.GetValue<string>());
        Assert.Equal([.. argv, "{connection_file}"], spec["argv"]!.AsArray().Select(a => a!.GetValue<string>()));
        var png = File.ReadAllBytes(Path.Combine(installed.Folder, "logo-64x64.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Equal(64, png[19]);   // IHDR width (big-endian, low byte)
        Assert.Equal(64, png[23]);   // IHDR height
    }

    [Fact]
    public void A_net_interactive_kernel_of_that_name_is_left_alone_and_ours_goes_under_mlcourse_csharp()
    {
        string theirs = Path.Combine(Kernels("system"), ".net-csharp");
        Directory.CreateDirectory(theirs);
        const string theirSpec = """{"argv": ["dotnet", "interactive", "jupyter"], "display_name": ".NET (C#)", "language": "C#"}""";
        File.WriteAllText(Path.Combine(theirs, "kernel.json"), theirSpec);

        var installed = KernelSpec.Install(Kernels("user"), argv, null, [Kernels("system")]);

        Assert.Equal("mlcourse-csharp", installed.Name);
        Assert.Equal(theirSpec, File.ReadAllText(Path.Combine(theirs, "kernel.json")));
        Assert.Contains(installed.Notes, n => n.Contains("left alone"));
    }

    [Fact]
    public void Reinstalling_updates_our_own_kernelspec()
    {
        KernelSpec.Install(Kernels("user"), argv, null, []);
        var again = KernelSpec.Install(Kernels("user"), argv, null, []);
        Assert.Equal(".net-csharp", again.Name);
    }

    [Fact]
    public void An_explicit_name_never_overwrites_another_kernel()
    {
        string theirs = Path.Combine(Kernels("user"), "python3");
        Directory.CreateDirectory(theirs);
        File.WriteAllText(Path.Combine(theirs, "kernel.json"), """{"argv": ["python3"], "display_name": "Python 3", "language": "python"}""");
        var error = Assert.Throws<InvalidOperationException>(() => KernelSpec.Install(Kernels("user"), argv, "python3", []));
        Assert.Contains("not overwritten", error.Message);
    }

    public void Dispose() => Directory.Delete(root, recursive: true);
}

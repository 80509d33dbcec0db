using System.Text.Json.Nodes;
using MLCourse.Kernel;

namespace MLCourse.Tests.Kernel;

/// <summary>
/// The kernel driven by real Jupyter clients nobody here wrote: jupyter_client (protocol_test.py) and nbconvert/nbclient
/// executing chapter 00. Skipped, with the install command, when the clients are not installed.
/// </summary>
public sealed class KernelClientTests(InstalledKernel kernel) : IClassFixture<InstalledKernel>
{
    [JupyterFact]
    public void The_kernel_passes_the_jupyter_client_protocol_checks()
    {
        string script = Path.Combine(JupyterClients.RepoRoot, "tests", "MLCourse.Tests", "Kernel", "protocol_test.py");
        var (code, output) = JupyterClients.Run(JupyterClients.Python!, [script, kernel.Name], TimeSpan.FromSeconds(120),
                                                kernel.Environment, Path.GetTempPath());
        Assert.True(code == 0, "protocol_test.py (jupyter_client) failed:\n" + output);
        Assert.Contains("all protocol checks passed", output);
    }

    [JupyterFact]
    public void Console_input_cannot_deadlock_the_kernel_and_every_malformed_request_gets_a_reply_and_idle()
    {
        string script = Path.Combine(JupyterClients.RepoRoot, "tests", "MLCourse.Tests", "Kernel", "robustness_test.py");
        var (code, output) = JupyterClients.Run(JupyterClients.Python!, [script, kernel.Name], TimeSpan.FromSeconds(300),
                                                kernel.Environment, Path.GetTempPath());
        Assert.True(code == 0, "robustness_test.py (jupyter_client) failed:\n" + output);
        Assert.Contains("all robustness checks passed", output);
    }

    [JupyterFact]
    public void Nbconvert_executes_chapter_00_through_the_kernel_and_keeps_the_chart_as_html()
    {
        string output = Path.Combine(kernel.Prefix, "executed");
        var environment = kernel.Environment;
        environment["MLCOURSE_QUICK"] = "1";
        var arguments = new List<string> { "-m", "nbconvert", "--to", "notebook", "--execute", "--ExecutePreprocessor.timeout=120", "--output-dir", output };
        // Installed as ".net-csharp", the kernel is found through the notebook's own metadata, as in an editor.
        if (kernel.Name != KernelSpec.PolyglotName) arguments.Add($"--ExecutePreprocessor.kernel_name={kernel.Name}");
        arguments.Add("00-setup.ipynb");
        var (code, log) = JupyterClients.Run(JupyterClients.Python!, arguments, TimeSpan.FromSeconds(180), environment,
                                             Path.Combine(JupyterClients.RepoRoot, "notebooks"));
        Assert.True(code == 0, "jupyter nbconvert --execute failed:\n" + log);
        Assert.Contains("MLCourse C# kernel listening", log);

        var notebook = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "00-setup.ipynb")))!;
        var outputs = notebook["cells"]!.AsArray()
            .Where(c => c!["cell_type"]!.GetValue<string>() == "code")
            .SelectMany(c => c!["outputs"]!.AsArray())
            .ToList();
        Assert.DoesNotContain(outputs, o => o!["output_type"]!.GetValue<string>() == "error");
        var html = outputs.Select(o => o!["data"]?["text/html"]).Where(h => h is not null)
            .Select(h => h is JsonArray lines ? string.Concat(lines.Select(l => l!.GetValue<string>())) : h!.GetValue<string>())
            .ToList();
        Assert.Contains(html, h => h.Contains("Plotly.newPlot", StringComparison.Ordinal));
        // Charts are Plotly's MIME bundle: the figure JSON (an object in the .ipynb, as nbformat stores JSON types) beside the HTML.
        Assert.Contains(outputs, o => o!["data"]?[MLCourse.Views.PlotlyMimeType] is JsonObject figure && figure["data"] is JsonArray);
        // The first chart carries plotly.js (Plotly.NET's copy), so it draws without internet.
        Assert.Contains(html, h => h.Contains("plotly.js v2.28.0", StringComparison.Ordinal));
        Assert.Equal("C#", notebook["metadata"]!["language_info"]!["name"]!.GetValue<string>());
    }
}

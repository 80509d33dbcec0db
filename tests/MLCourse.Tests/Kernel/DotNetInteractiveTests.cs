
namespace MLCourse.Tests.Kernel;

/// <summary>
/// Every notebook (chapters, solutions, exercises) runs in the real .NET Interactive C# kernel over the Jupyter
/// protocol in quick mode with no unexpected error cell, and every chapter's outputs match the workbook's own engine
/// cell by cell (tests/DotNetInteractive/run_notebooks.py states the normalisation and the tolerance). Skipped where the
/// kernel or the Jupyter clients are missing, unless MLCOURSE_REQUIRE_DOTNET_INTERACTIVE=1 (CI sets it), where that is
/// a failure.
/// </summary>
public class DotNetInteractiveTests
{
    /// <summary>Skips (or, where CI requires it, fails) when the kernel or the Jupyter clients are missing.</summary>
    private static void RequireDotNetInteractive()
    {
        bool required = Environment.GetEnvironmentVariable("MLCOURSE_REQUIRE_DOTNET_INTERACTIVE") == "1";
        string? missing = JupyterClients.Python is null ? JupyterClients.Missing
            : JupyterClients.Run(JupyterClients.Dotnet, ["interactive", "--version"], TimeSpan.FromSeconds(60)).ExitCode != 0
                ? "the .NET Interactive tool is missing: run `dotnet tool restore` in the repository (.config/dotnet-tools.json)"
                : null;
        if (missing is null) return;
        Assert.False(required, "MLCOURSE_REQUIRE_DOTNET_INTERACTIVE=1 but " + missing);
        Skip.If(true, missing);
    }

    [SkippableFact]
    public void Stop_in_polyglot_notebooks_stops_a_library_loop()
    {
        RequireDotNetInteractive();
        var (code, report) = JupyterClients.Run(JupyterClients.Python!,
            [Path.Combine(Repo.Root, "tests", "DotNetInteractive", "interrupt_check.py")], TimeSpan.FromMinutes(15));
        Assert.True(code == 0, "Stop did not end the library loop:\n" + report);
        Assert.Contains("Stop ended the library loop", report);
    }

    [SkippableFact]
    public void Every_notebook_runs_in_dotnet_interactive_and_the_chapters_match_the_engine()
    {
        RequireDotNetInteractive();
        Repo.UseSharedData();
        var notebooks = new[] { "notebooks", "solutions", "exercises" }
            .SelectMany(folder => Directory.GetFiles(Path.Combine(Repo.Root, folder), "*.ipynb").Order(StringComparer.Ordinal))
            .ToList();
        Assert.True(notebooks.Count >= 26, $"expected the whole workbook, found {notebooks.Count} notebooks");
        string output = Directory.CreateTempSubdirectory("mlcourse-dni-").FullName;
        var (code, report) = JupyterClients.Run(JupyterClients.Python!,
            [Path.Combine(Repo.Root, "tests", "DotNetInteractive", "run_notebooks.py"), "--out", output,
             "--jobs", Math.Max(1, Math.Min(4, Environment.ProcessorCount)).ToString(), "--engine-cli", JupyterClients.CliDll, .. notebooks],
            TimeSpan.FromMinutes(60), new Dictionary<string, string> { ["MLCOURSE_DATA"] = Environment.GetEnvironmentVariable("MLCOURSE_DATA") ?? "" });
        Console.WriteLine(report);
        Assert.True(code == 0, "The .NET Interactive pass failed:\n" + report);
        Assert.Contains($"{notebooks.Count} of {notebooks.Count} notebook(s) ran in .NET Interactive", report);

        // A chart cell's output in .NET Interactive is a drawn Plotly chart: plotly.js and a newPlot call with data.
        string executed = File.ReadAllText(Path.Combine(output, "dotnet-interactive", "00-setup.ipynb"));
        Assert.Contains("Plotly.newPlot", executed);
        Assert.Contains("plotly.js v2.28.0", executed);
    }
}

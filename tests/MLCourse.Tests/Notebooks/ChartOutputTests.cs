using System.Text.Json.Nodes;
using MLCourse.Kernel;
using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

/// <summary>Charts as Plotly's MIME bundle (figure JSON + an HTML fallback that draws offline) in both engines.</summary>
public sealed class ChartOutputTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("mlcourse-charts-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private const string Chart = "MLCourse.Plots.Charts.Line(new double[] { 0, 1, 2 }, new double[] { 3, 1, 4 }, \"y\")";

    private Notebook Write(params string[] codeCells)
    {
        var notebook = new Notebook();
        notebook.Cells.Add(new Cell(CellKind.Markdown, "# Charts"));
        foreach (var code in codeCells) notebook.Cells.Add(new Cell(CellKind.Code, code, Notebook.CSharpCellMetadata()));
        string path = Path.Combine(folder, "charts.ipynb");
        notebook.Save(path);
        return Notebook.Load(path);
    }

    private static void AssertNoNetwork(string html)
    {
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://cdn", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("requirejs.config", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_chart_is_plotly_figure_json_beside_an_html_fallback_and_text()
    {
        var data = ValueFormatter.Format(MLCourse.Plots.Charts.Line([0.0, 1.0, 2.0], [3.0, 1.0, 4.0], "y"));
        Assert.Equal(new[] { "application/vnd.plotly.v1+json", "text/html", "text/plain" }, data.Keys.Order(StringComparer.Ordinal));
        var figure = JsonNode.Parse(data[Views.PlotlyMimeType])!.AsObject();
        Assert.Equal(new double[] { 3, 1, 4 }, figure["data"]![0]!["y"]!.AsArray().Select(v => v!.GetValue<double>()));
        Assert.IsType<JsonObject>(figure["layout"]);
        Assert.IsType<JsonObject>(figure["config"]);
        Assert.Contains("Plotly.newPlot", data["text/html"]);
        AssertNoNetwork(data["text/html"]);
    }

    [Fact]
    public void Dataframes_and_tensors_keep_text_beside_their_html()
    {
        var df = new Microsoft.Data.Analysis.DataFrame(new Microsoft.Data.Analysis.PrimitiveDataFrameColumn<int>("n", [1, 2]));
        var data = ValueFormatter.Format(df);
        Assert.Contains("<table", data["text/html"]);
        Assert.Contains("n", data["text/plain"]);
        using var t = TorchSharp.torch.ones(2);
        Assert.StartsWith("tensor [2] float32", ValueFormatter.Format(t)["text/plain"]);
    }

    [Fact]
    public async Task The_executed_notebook_carries_plotly_js_once_in_its_first_chart_and_stores_the_figure_as_json()
    {
        var notebook = Write("var x = 1;", Chart, $"{Chart}.Display();");
        var report = await NotebookRunner.RunAsync(notebook);
        Assert.True(report.Succeeded, string.Join("\n", report.Diagnoses));
        var charts = notebook.Cells.SelectMany(c => c.Outputs).Select(o => o switch { DisplayOutput d => d.Data, ResultOutput r => r.Data, _ => null })
            .Where(d => d is not null && ChartOutputs.IsChart(d)).ToList();
        Assert.Equal(2, charts.Count);
        Assert.True(ChartOutputs.CarriesPlotly(charts[0]!));
        Assert.Contains("plotly.js v2.28.0", charts[0]!["text/html"]);
        Assert.False(ChartOutputs.CarriesPlotly(charts[1]!));
        Assert.DoesNotContain("plotly.js v2.28.0", charts[1]!["text/html"]);
        Assert.False(ChartOutputs.EmbedPlotlyOnce(notebook));   // never twice

        string saved = Path.Combine(folder, "executed.ipynb");
        notebook.Save(saved);
        var json = JsonNode.Parse(File.ReadAllText(saved))!;
        var stored = json["cells"]!.AsArray().SelectMany(c => c!["outputs"]?.AsArray() ?? []).Select(o => o!["data"]?[Views.PlotlyMimeType]).Where(f => f is not null).ToList();
        Assert.Equal(2, stored.Count);
        Assert.All(stored, f => Assert.IsType<JsonObject>(f));   // nbformat stores JSON MIME types as objects, not strings
        var reloaded = Notebook.Load(saved);
        Assert.False(ChartOutputs.EmbedPlotlyOnce(reloaded));
    }

    [Fact]
    public void The_kernel_embeds_plotly_js_in_the_first_chart_of_a_session_only_and_not_at_all_in_native_mode()
    {
        var chart = ValueFormatter.Format(MLCourse.Plots.Charts.Line([0.0, 1.0], [1.0, 0.0]));
        var table = ValueFormatter.Format(new Microsoft.Data.Analysis.DataFrame(new Microsoft.Data.Analysis.PrimitiveDataFrameColumn<int>("n", [1])));
        var embed = new PlotlyEmbedding(PlotlyMode.Embed);
        Assert.Same(table, embed.Apply(table));
        Assert.True(ChartOutputs.CarriesPlotly(embed.Apply(chart)));
        Assert.False(ChartOutputs.CarriesPlotly(embed.Apply(chart)));
        Assert.False(ChartOutputs.CarriesPlotly(new PlotlyEmbedding(PlotlyMode.Native).Apply(chart)));
    }
}

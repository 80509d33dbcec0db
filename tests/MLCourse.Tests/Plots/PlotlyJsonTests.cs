using System.Text.Json.Nodes;
using MLCourse.Classic;
using MLCourse.Plots;
using Plotly.NET;
using TorchSharp;

namespace MLCourse.Tests.Plots;

/// <summary>The engine's fast chart JSON means the same as Plotly.NET's own (Newtonsoft) serialization.</summary>
public class PlotlyJsonTests
{
    public static TheoryData<string> ChartNames() => new(Charts().Keys);

    private static Dictionary<string, Func<GenericChart>> Charts() => new()
    {
        ["line"] = () => MLCourse.Plots.Charts.Line([0.0, 0.5, 1.0], [1.0, -2.5, 3e-9], "a line"),
        ["styled combine with log axes"] = () => MLCourse.Plots.Charts.LogY(MLCourse.Plots.Charts.LogX(MLCourse.Plots.Charts.Combine(
            [MLCourse.Plots.Charts.Line([1.0, 2, 3], [4.0, 5, 6], "θ ≤ 2 <b>bold</b>"), MLCourse.Plots.Charts.Scatter([1.0, 2], [3.0, 1], "pts")],
            "title \"quoted\"", "x", "y"))),
        ["heatmap with labels"] = () => MLCourse.Plots.Charts.Heatmap([[1, 2], [3, 4.5]], "confusion", ["a", "b"], ["c", "d"]),
        ["signed image"] = () => MLCourse.Plots.Charts.Images(torch.tensor(new float[] { -1, 0, 3, 4 }).reshape(1, 2, 2), diverging: true),
        ["scatter by class"] = () => MLCourse.Plots.Charts.ScatterByClass([0.0, 1, 2, 3], [1.0, 0, 1, 0], [0, 1, 0, 1], ["neg", "pos"], "classes"),
        ["decision boundary"] = () =>
        {
            var X = torch.tensor(new double[] { -2, 0, -1, 1, 2, 0, 1, 1 }).reshape(4, 2);
            var y = torch.tensor(new long[] { 0, 0, 1, 1 });
            var knn = new KNearestNeighbors(1).Fit(X, y);
            return DecisionBoundary.Plot(knn.Predict, X, y, resolution: 8, classNames: ["left", "right"], title: "1-NN");
        },
    };

    [Theory]
    [MemberData(nameof(ChartNames))]
    public void Data_layout_and_config_equal_what_PlotlyNET_writes(string name)
    {
        var chart = Charts()[name]();
        var (data, layout, config) = PlotlyJson.Serialize(chart);
        AssertSameJson(Newtonsoft.Json.JsonConvert.SerializeObject(GenericChart.getTraces(chart)), data);
        AssertSameJson(Newtonsoft.Json.JsonConvert.SerializeObject(GenericChart.getLayout(chart)), layout);
        AssertSameJson(Newtonsoft.Json.JsonConvert.SerializeObject(GenericChart.getConfig(chart)), config);
    }

    [Fact]
    public void Gaps_become_null_and_the_html_draws_into_its_own_div()
    {
        var chart = MLCourse.Plots.Charts.Images(torch.rand(3, 1, 2, 2), columns: 2);
        var (data, _, _) = PlotlyJson.Serialize(chart);
        var z = JsonNode.Parse(data)![0]!["z"]!.AsArray();
        Assert.Null(z[4]![3]);                                  // the empty fourth cell
        string html = PlotlyJson.Html(chart);
        var id = System.Text.RegularExpressions.Regex.Match(html, "<div id=\"([0-9a-f-]+)\"").Groups[1].Value;
        Assert.Contains($"Plotly.newPlot('{id}', data, layout, config);", html);
        Assert.Contains($"renderPlotly_{id.Replace("-", "")}();", html);
        Assert.DoesNotContain("</script>", Serialize(MLCourse.Plots.Charts.Line([0.0], [1.0], "</script><b>")));
    }

    private static string Serialize(GenericChart chart) => PlotlyJson.Serialize(chart).Data;

    private static void AssertSameJson(string expected, string actual) =>
        Assert.True(Same(JsonNode.Parse(expected), JsonNode.Parse(actual)), $"expected {expected}\nactual   {actual}");

    private static bool Same(JsonNode? a, JsonNode? b) => (a, b) switch
    {
        (null, null) => true,
        (JsonObject x, JsonObject y) => x.Count == y.Count && x.All(p => y.ContainsKey(p.Key) && Same(p.Value, y[p.Key])),
        (JsonArray x, JsonArray y) => x.Count == y.Count && x.Zip(y).All(p => Same(p.First, p.Second)),
        (JsonValue x, JsonValue y) when x.TryGetValue(out double dx) && y.TryGetValue(out double dy) => dx == dy,
        (JsonValue x, JsonValue y) => x.ToJsonString() == y.ToJsonString() || x.GetValue<object>().ToString() == y.GetValue<object>().ToString(),
        _ => false,
    };
}

using MLCourse.Plots;
using TorchSharp;

namespace MLCourse.Tests.Plots;

public class ImagesTests
{
    [Fact]
    public void Tiles_images_into_one_heatmap_with_gaps_and_no_axis_labels()
    {
        var images = torch.arange(5 * 2 * 3, dtype: torch.float32).reshape(5, 1, 2, 3);
        var chart = Charts.Images(images, columns: 2, title: "five");
        var traces = Plotly.NET.GenericChart.getTraces(chart).ToArray();
        Assert.Equal("heatmap", Assert.Single(traces).type);
        string html = Plotly.NET.GenericChart.toChartHTML(chart);
        Assert.Contains("five", html);
        Assert.Contains("\"showticklabels\":false", html);
        Assert.Contains("\"autorange\":\"reversed\"", html);
        // 3 rows of 2-pixel images with 1-pixel gaps = 8 rows of z; gaps are NaN (null in JSON).
        var z = (System.Collections.IEnumerable)((DynamicObj.DynamicObj)traces[0]).GetPropertyValue("z");
        var rows = z.Cast<System.Collections.IEnumerable>().Select(r => r.Cast<double>().ToArray()).ToArray();
        Assert.Equal(8, rows.Length);
        Assert.All(rows, r => Assert.Equal(7, r.Length));
        Assert.Equal(0.0, rows[0][0]);                       // each image scaled to its own 0..1
        Assert.Equal(1.0, rows[1][2]);
        Assert.True(double.IsNaN(rows[2][0]));                // gap row
        Assert.True(double.IsNaN(rows[6][4]));                // empty sixth cell
    }

    [Fact]
    public void Diverging_maps_keep_zero_in_the_middle()
    {
        var map = torch.tensor(new float[] { -2, 0, 1, 2 }).reshape(1, 2, 2);
        var chart = Charts.Images(map, diverging: true);
        var z = (System.Collections.IEnumerable)((DynamicObj.DynamicObj)Plotly.NET.GenericChart.getTraces(chart).Single()).GetPropertyValue("z");
        var values = z.Cast<System.Collections.IEnumerable>().SelectMany(r => r.Cast<double>()).ToArray();
        Assert.Equal(new[] { -1.0, 0.0, 0.5, 1.0 }, values);
    }

    [Fact]
    public void Diverging_colour_scale_runs_blue_through_white_at_zero_to_red()
    {
        // Mostly positive data: with plotly's automatic range the middle colour would sit at 0.375, not at zero.
        var map = torch.tensor(new float[] { -1, 0, 3, 4 }).reshape(1, 2, 2);
        var trace = System.Text.Json.Nodes.JsonNode.Parse(PlotlyJson.Serialize(Charts.Images(map, diverging: true)).Data)![0]!;
        double zmin = trace["zmin"]!.GetValue<double>(), zmax = trace["zmax"]!.GetValue<double>();
        Assert.Equal(-zmax, zmin);                                              // symmetric: zero is the middle
        Assert.True(zmax > 0);
        Assert.True(trace["reversescale"] is null || !trace["reversescale"]!.GetValue<bool>());
        var stops = trace["colorscale"]!.AsArray().Select(s => (At: s![0]!.GetValue<double>(), Rgb: Rgb(s[1]!.GetValue<string>()))).ToArray();
        Assert.Equal(0.0, stops[0].At);
        Assert.Equal(1.0, stops[^1].At);
        Assert.True(stops[0].Rgb.B > 2 * stops[0].Rgb.R, $"low end {stops[0].Rgb} is not blue");
        Assert.True(stops[^1].Rgb.R > 2 * stops[^1].Rgb.B, $"high end {stops[^1].Rgb} is not red");
        var middle = stops.Single(s => s.At == 0.5);
        Assert.Equal((255, 255, 255), middle.Rgb);                               // white at zero
        var z = trace["z"]!.AsArray().SelectMany(r => r!.AsArray()).Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(0.5, (z[1] - zmin) / (zmax - zmin));                       // the pixel that is 0 gets the middle colour
    }

    [Fact]
    public void Grey_images_run_from_black_at_the_minimum_to_white_at_the_maximum()
    {
        var trace = System.Text.Json.Nodes.JsonNode.Parse(
            PlotlyJson.Serialize(Charts.Images(torch.tensor(new float[] { 2, 3, 4, 6 }).reshape(1, 2, 2))).Data)![0]!;
        Assert.Equal("Greys", trace["colorscale"]!.GetValue<string>());            // plotly.js: 0 rgb(0,0,0), 1 rgb(255,255,255)
        Assert.True(trace["reversescale"] is null || !trace["reversescale"]!.GetValue<bool>());
        Assert.Equal(0.0, trace["zmin"]!.GetValue<double>());
        Assert.Equal(1.0, trace["zmax"]!.GetValue<double>());
        var z = trace["z"]!.AsArray().SelectMany(r => r!.AsArray()).Select(v => v!.GetValue<double>()).ToArray();
        Assert.Equal(new[] { 0.0, 0.25, 0.5, 1.0 }, z);                          // the minimum black, the maximum white
    }

    private static (int R, int G, int B) Rgb(string colour)
    {
        if (colour.StartsWith('#'))
            return (Convert.ToInt32(colour[1..3], 16), Convert.ToInt32(colour[3..5], 16), Convert.ToInt32(colour[5..7], 16));
        var parts = System.Text.RegularExpressions.Regex.Matches(colour, @"\d+(\.\d+)?").Select(m => double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return ((int)parts[0], (int)parts[1], (int)parts[2]);
    }

    [Fact]
    public void Colour_images_are_refused_with_the_shape_in_the_message()
    {
        var ex = Assert.Throws<ArgumentException>(() => Charts.Images(torch.zeros(2, 3, 4, 4)));
        Assert.Contains("[2, 3, 4, 4]", ex.Message);
    }
}

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
    public void Colour_images_are_refused_with_the_shape_in_the_message()
    {
        var ex = Assert.Throws<ArgumentException>(() => Charts.Images(torch.zeros(2, 3, 4, 4)));
        Assert.Contains("[2, 3, 4, 4]", ex.Message);
    }
}

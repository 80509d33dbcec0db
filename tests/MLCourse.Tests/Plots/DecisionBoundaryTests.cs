using MLCourse.Classic;
using MLCourse.Plots;
using TorchSharp;

namespace MLCourse.Tests.Plots;

public class DecisionBoundaryTests
{
    private static (torch.Tensor X, torch.Tensor y) TwoClusters() =>
        (torch.tensor(new double[] { -2, 0, -1, 1, -1, -1, 2, 0, 1, 1, 1, -1 }).reshape(6, 2),
         torch.tensor(new long[] { 0, 0, 0, 1, 1, 1 }));

    [Fact]
    public void Renders_a_heatmap_of_the_predictions_under_one_scatter_trace_per_class()
    {
        var (X, y) = TwoClusters();
        var knn = new KNearestNeighbors(1).Fit(X, y);
        var chart = DecisionBoundary.Plot(knn.Predict, X, y, resolution: 20, classNames: ["left", "right"], title: "1-NN");
        var types = Plotly.NET.GenericChart.getTraces(chart).Select(t => t.type).ToArray();
        Assert.Equal(new[] { "heatmap", "scatter", "scatter" }, types);
        string html = Plotly.NET.GenericChart.toChartHTML(chart);
        Assert.Contains("\"name\":\"left\"", html);
        Assert.Contains("\"name\":\"right\"", html);
        Assert.Contains("\"zmin\":0", html);
        Assert.Contains("\"zmax\":1", html);
        Assert.Contains("1-NN", html);
    }

    [Fact]
    public void The_grid_covers_the_points_and_z_has_one_row_per_y_value()
    {
        var (X, y) = TwoClusters();
        torch.Tensor? seen = null;
        torch.Tensor Predict(torch.Tensor grid)
        {
            seen = grid.clone().DetachFromDisposeScope();
            // four quadrant classes: +1 right of the y axis, +2 above the x axis
            return (grid[.., 0] > 0).to(torch.int64) + 2 * (grid[.., 1] > 0).to(torch.int64);
        }
        var chart = DecisionBoundary.Plot(Predict, X, y, resolution: 5, padding: 0);
        Assert.NotNull(seen);
        Assert.Equal(new long[] { 25, 2 }, seen!.shape);
        Assert.Equal(-2.0, seen[.., 0].min().item<double>(), 1e-12);
        Assert.Equal(2.0, seen[.., 0].max().item<double>(), 1e-12);
        Assert.Equal(-1.0, seen[.., 1].min().item<double>(), 1e-12);
        Assert.Equal(1.0, seen[.., 1].max().item<double>(), 1e-12);
        // x = −2, −1, 0, 1, 2 along each row; y = −1, −0.5, 0, 0.5, 1 from the first row to the last
        string html = Plotly.NET.GenericChart.toChartHTML(chart);
        Assert.Contains("\"x\":[-2.0,-1.0,0.0,1.0,2.0],\"y\":[-1.0,-0.5,0.0,0.5,1.0]", html);
        Assert.Contains("\"z\":[[0.0,0.0,0.0,1.0,1.0],[0.0,0.0,0.0,1.0,1.0],[0.0,0.0,0.0,1.0,1.0],"
                        + "[2.0,2.0,2.0,3.0,3.0],[2.0,2.0,2.0,3.0,3.0]]", html);
        Assert.Contains("\"zmax\":3", html); // colours span all four predicted classes
    }

    [Fact]
    public void Rejects_data_that_is_not_two_dimensional()
    {
        using var X = torch.zeros(4, 3);
        using var y = torch.zeros(4, dtype: torch.int64);
        Assert.Throws<ArgumentException>(() => DecisionBoundary.Plot(t => torch.zeros(t.shape[0], dtype: torch.int64), X, y));
    }
}

using Plotly.NET;
using Plotly.NET.CSharp;
using TorchSharp;
using static TorchSharp.torch;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MLCourse.Plots;

/// <summary>
/// The picture chapters 02 and 03 draw for every classifier: the plane coloured by the class a model predicts
/// (a heat map over a grid), with the training points on top in the same colours, so the decision boundary
/// (决策边界) is where the colour changes. Introduced in chapter 02 (classification).
/// </summary>
public static class DecisionBoundary
{
    /// <summary>Plotly's default colour cycle: class c gets the colour of the c-th trace.</summary>
    private static readonly string[] Palette =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    /// <summary>
    /// Plots the classes <paramref name="predict"/> assigns over a grid covering <paramref name="X"/>, and the
    /// points (X, y) on top.
    /// </summary>
    /// <param name="predict">Maps a (points, 2) float tensor to one class index per point, e.g. <c>knn.Predict</c>.</param>
    /// <param name="X">Training points, shape (n, 2).</param>
    /// <param name="y">Their class indices 0..C-1, shape (n).</param>
    /// <param name="resolution">Grid points along each axis.</param>
    /// <param name="padding">Margin around the points, as a fraction of the data range on each axis.</param>
    /// <param name="classNames">Legend names of the classes (default "class 0", "class 1", …).</param>
    /// <param name="title">Chart title.</param>
    public static GenericChart Plot(Func<Tensor, Tensor> predict, Tensor X, Tensor y, int resolution = 100, double padding = 0.1,
                                    IReadOnlyList<string>? classNames = null, string title = "")
    {
        if (X.dim() != 2 || X.shape[1] != 2) throw new ArgumentException("DecisionBoundary draws 2-D data: X must have shape (n, 2).");
        if (resolution < 2) throw new ArgumentOutOfRangeException(nameof(resolution), "resolution must be at least 2.");
        using var scope = torch.NewDisposeScope();
        var points = X.detach().to(float64).cpu();
        var labels = y.detach().to(int64).cpu().data<long>().ToArray();
        var xs = Axis(points[.., 0], resolution, padding);
        var ys = Axis(points[.., 1], resolution, padding);

        // grid in row-major order: row r has y = ys[r], column c has x = xs[c]
        var gx = torch.tensor(xs).unsqueeze(0).expand(resolution, resolution);
        var gy = torch.tensor(ys).unsqueeze(1).expand(resolution, resolution);
        var grid = torch.stack([gx.reshape(-1), gy.reshape(-1)], 1).to(X.dtype, X.device); // (resolution², 2)
        var predicted = predict(grid).detach().to(int64).cpu().data<long>().ToArray();
        if (predicted.Length != grid.shape[0])
            throw new ArgumentException($"predict returned {predicted.Length} values for {grid.shape[0]} grid points.");

        int numClasses = (int)Math.Max(labels.DefaultIfEmpty(0).Max(), predicted.DefaultIfEmpty(0).Max()) + 1;
        var z = Enumerable.Range(0, resolution)
            .Select(r => Enumerable.Range(0, resolution).Select(c => (double)predicted[r * resolution + c]).ToArray())
            .ToArray();
        var regions = CSharpChart.Heatmap<double, double, double, string>(
            zData: z.Select(row => (IEnumerable<double>)row),
            X: xs, Y: ys, Name: "predicted class", ShowLegend: false, Opacity: 0.35,
            ColorScale: ClassColorscale(numClasses), ShowScale: false);
        // fix the colour range to the class indices, so a class that wins nowhere does not shift the colours
        regions = GenericChart.mapTrace(
            Microsoft.FSharp.Core.FuncConvert.FromFunc<Trace, Trace>(trace =>
            {
                trace.SetProperty("zmin", 0);
                trace.SetProperty("zmax", Math.Max(1, numClasses - 1));
                return trace;
            }), regions);

        var px = points[.., 0].data<double>().ToArray();
        var py = points[.., 1].data<double>().ToArray();
        var scatter = Enumerable.Range(0, numClasses).Where(c => labels.Contains(c)).Select(c =>
        {
            var idx = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            string name = classNames is not null && c < classNames.Count ? classNames[c] : $"class {c}";
            return CSharpChart.Point<double, double, string>(
                x: idx.Select(i => px[i]).ToArray(), y: idx.Select(i => py[i]).ToArray(), Name: name, ShowLegend: true,
                MarkerColor: Color.fromHex(Palette[c % Palette.Length]));
        });
        return Charts.Combine(new[] { regions }.Concat(scatter), title);
    }

    /// <summary>Evenly spaced values covering a column of points plus padding.</summary>
    private static double[] Axis(Tensor column, int resolution, double padding)
    {
        double lo = column.min().item<double>(), hi = column.max().item<double>();
        double span = hi > lo ? hi - lo : 1;
        lo -= padding * span;
        hi += padding * span;
        return Enumerable.Range(0, resolution).Select(i => lo + (hi - lo) * i / (resolution - 1)).ToArray();
    }

    /// <summary>A stepped colour scale: class c (at c / (C − 1) of the range) gets the palette's c-th colour.</summary>
    private static StyleParam.Colorscale ClassColorscale(int numClasses)
    {
        int steps = Math.Max(2, numClasses);
        var stops = new List<Tuple<double, Color>>();
        for (int c = 0; c < steps; c++)
        {
            var colour = Color.fromHex(Palette[c % Palette.Length]);
            double from = Math.Max(0, (c - 0.5) / (steps - 1)), to = Math.Min(1, (c + 0.5) / (steps - 1));
            stops.Add(Tuple.Create(from, colour));
            stops.Add(Tuple.Create(to, colour));
        }
        return StyleParam.Colorscale.NewCustom(stops);
    }
}

using Microsoft.FSharp.Core;
using Plotly.NET;
using Plotly.NET.CSharp;
using CSharpChart = Plotly.NET.CSharp.Chart;

namespace MLCourse.Plots;

/// <summary>
/// Small Plotly.NET helpers for the charts chapters draw again and again: curves, scatter plots, a fitted
/// line over data, heat maps. Each returns a <see cref="GenericChart"/> that a notebook shows as HTML.
/// Introduced in chapter 00.
/// </summary>
public static class Charts
{
    /// <summary>One curve y(x).</summary>
    public static GenericChart Line(IEnumerable<double> x, IEnumerable<double> y, string name = "")
        => CSharpChart.Line<double, double, string>(x: x.ToArray(), y: y.ToArray(), Name: name, ShowLegend: name.Length > 0);

    /// <summary>One curve y(x) with integer x (epochs, steps).</summary>
    public static GenericChart Line(IEnumerable<int> x, IEnumerable<double> y, string name = "")
        => Line(x.Select(v => (double)v), y, name);

    /// <summary>Points (x, y), optionally coloured by a label per point.</summary>
    public static GenericChart Scatter(IEnumerable<double> x, IEnumerable<double> y, string name = "")
        => CSharpChart.Point<double, double, string>(x: x.ToArray(), y: y.ToArray(), Name: name, ShowLegend: name.Length > 0);

    /// <summary>One scatter series per class label, so each class gets its own colour and legend entry.</summary>
    public static GenericChart ScatterByClass(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<int> labels,
                                              IReadOnlyList<string>? classNames = null, string title = "")
    {
        var charts = labels.Distinct().Order().Select(c =>
        {
            var idx = Enumerable.Range(0, labels.Count).Where(i => labels[i] == c).ToArray();
            string name = classNames is not null && c < classNames.Count ? classNames[c] : $"class {c}";
            return Scatter(idx.Select(i => x[i]), idx.Select(i => y[i]), name);
        });
        return Combine(charts, title);
    }

    /// <summary>A heat map of a matrix (rows top to bottom).</summary>
    public static GenericChart Heatmap(double[][] z, string title = "", IEnumerable<string>? xLabels = null, IEnumerable<string>? yLabels = null)
    {
        var chart = CSharpChart.Heatmap<double, string, string, string>(
            zData: z.Select(row => (IEnumerable<double>)row),
            X: xLabels is null ? new Optional<IEnumerable<string>>() : xLabels.ToArray(),
            Y: yLabels is null ? new Optional<IEnumerable<string>>() : yLabels.ToArray(),
            ReverseYAxis: true);
        return title.Length > 0 ? WithTitle(chart, title) : chart;
    }

    /// <summary>
    /// A grid of grey-scale images, drawn as pixel values read: the smallest value black, the largest white (MNIST
    /// digits are white strokes on black). <paramref name="images"/> is [N, H, W] or [N, 1, H, W] (any range; each
    /// image is scaled to its own min..max unless <paramref name="sharedScale"/>). Images fill rows of
    /// <paramref name="columns"/>; a thin gap separates them. Used from chapter 06 on (filters, generated digits,
    /// reconstructions, saliency maps). Signed maps (saliency, perturbations) read best with
    /// <paramref name="diverging"/>: blue below zero, red above, white at zero; each map (or all of them, with
    /// <paramref name="sharedScale"/>) is divided by its largest |value|, and the colour range is fixed to −1..1,
    /// so zero is always the white middle of the colour bar.
    /// </summary>
    public static GenericChart Images(TorchSharp.torch.Tensor images, int columns = 8, string title = "",
                                      bool sharedScale = false, bool diverging = false, int pixelSize = 3)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var x = images.detach().cpu().to_type(TorchSharp.torch.ScalarType.Float64);
        if (x.dim() == 4 && x.shape[1] == 1) x = x.squeeze(1);
        if (x.dim() == 2) x = x.unsqueeze(0);
        if (x.dim() != 3)
            throw new ArgumentException($"Charts.Images wants [N, H, W] or [N, 1, H, W] grey-scale images, not [{string.Join(", ", images.shape)}].", nameof(images));
        int n = (int)x.shape[0], h = (int)x.shape[1], w = (int)x.shape[2];
        if (n == 0) throw new ArgumentException("Charts.Images got no images.", nameof(images));
        columns = Math.Max(1, Math.Min(columns, n));
        int rows = (n + columns - 1) / columns;
        if (diverging)
        {
            var limit = sharedScale ? x.abs().max() : x.abs().amax([1, 2], keepdim: true);
            x = x / limit.clamp_min(1e-12);                       // −1..1, zero stays zero
        }
        else
        {
            var low = sharedScale ? x.min() : x.amin([1, 2], keepdim: true);
            var high = sharedScale ? x.max() : x.amax([1, 2], keepdim: true);
            x = (x - low) / (high - low).clamp_min(1e-12);         // 0..1 per image (or over all)
        }
        var values = x.contiguous().data<double>().ToArray();
        int gap = 1, height = rows * (h + gap) - gap, width = columns * (w + gap) - gap;
        var z = new double[height][];
        for (int r = 0; r < height; r++) { z[r] = new double[width]; Array.Fill(z[r], double.NaN); }
        for (int i = 0; i < n; i++)
        {
            int top = i / columns * (h + gap), left = i % columns * (w + gap);
            for (int r = 0; r < h; r++)
                for (int c = 0; c < w; c++)
                    z[top + r][left + c] = values[(i * h + r) * w + c];
        }
        var chart = CSharpChart.Heatmap<double, int, int, string>(
            zData: z.Select(row => (IEnumerable<double>)row),
            ColorScale: diverging ? Diverging : StyleParam.Colorscale.Greys,    // plotly's Greys: 0 black, 1 white
            ShowScale: diverging,
            ReverseYAxis: true);
        // Fixed colour ranges, not the data's min..max: a signed map whose values run from −0.2 to 1 would otherwise put
        // plotly's middle colour at 0.4, not at zero.
        chart = GenericChart.mapTrace(FuncConvert.FromFunc<Trace, Trace>(trace =>
        {
            trace.SetProperty("zmin", diverging ? -1.0 : 0.0);
            trace.SetProperty("zmax", 1.0);
            return trace;
        }), chart);
        chart = Plotly.NET.Chart.withXAxis(BareAxis(reversed: false), FSharpOption<StyleParam.SubPlotId>.None).Invoke(chart);
        chart = Plotly.NET.Chart.withYAxis(BareAxis(reversed: true), FSharpOption<StyleParam.SubPlotId>.None).Invoke(chart);
        // Plotly's default margins (80 px on each side, 100 at the top) left a short grid a plot area of a few pixels, and
        // with the y axis anchored to x's scale plotly.js then failed ("Something went wrong with axis scaling") and drew
        // nothing. Explicit margins: room for the title and, for signed maps, the colour bar.
        int marginTop = title.Length > 0 ? 50 : 10, right = diverging ? 90 : 10, side = 10;
        var margin = new Plotly.NET.LayoutObjects.Margin();
        margin.SetProperty("l", side);
        margin.SetProperty("r", right);
        margin.SetProperty("t", marginTop);
        margin.SetProperty("b", side);
        chart = Plotly.NET.Chart.withMargin(margin).Invoke(chart);
        chart = chart.WithSize(Math.Max(160, width * pixelSize + side + right), Math.Max(80, height * pixelSize + marginTop + side));
        return title.Length > 0 ? WithTitle(chart, title) : chart;
    }

    /// <summary>
    /// The colour scale of signed maps over −1..1: blue at −1, white at 0, red at +1 (the end colours of plotly's RdBu,
    /// whose own middle is grey, not white).
    /// </summary>
    internal static readonly StyleParam.Colorscale Diverging = StyleParam.Colorscale.NewCustom(
    [
        Tuple.Create(0.0, Color.fromRGB(5, 10, 172)),
        Tuple.Create(0.5, Color.fromRGB(255, 255, 255)),
        Tuple.Create(1.0, Color.fromRGB(178, 10, 28)),
    ]);

    static Plotly.NET.LayoutObjects.LinearAxis BareAxis(bool reversed)
    {
        var axis = new Plotly.NET.LayoutObjects.LinearAxis();
        axis.SetProperty("showticklabels", false);
        axis.SetProperty("showgrid", false);
        axis.SetProperty("showline", false);
        axis.SetProperty("zeroline", false);
        axis.SetProperty("ticks", "");
        if (reversed) { axis.SetProperty("autorange", "reversed"); axis.SetProperty("scaleanchor", "x"); }
        return axis;
    }

    /// <summary>Overlays several charts on one pair of axes, with titles.</summary>
    public static GenericChart Combine(IEnumerable<GenericChart> charts, string title = "", string xTitle = "", string yTitle = "")
        => Style(CSharpChart.Combine(charts), title, xTitle, yTitle);

    /// <summary>Sets the title, the axis titles and a size that reads well in a notebook.</summary>
    public static GenericChart Style(GenericChart chart, string title = "", string xTitle = "", string yTitle = "", int width = 720, int height = 420)
    {
        var styled = chart.WithSize(width, height);
        if (title.Length > 0) styled = WithTitle(styled, title);
        if (xTitle.Length > 0) styled = styled.WithXAxisStyle<double, double, string>(TitleText: xTitle);
        if (yTitle.Length > 0) styled = styled.WithYAxisStyle<double, double, string>(TitleText: yTitle);
        return styled;
    }

    /// <summary>A logarithmic y axis (loss curves that span orders of magnitude).</summary>
    public static GenericChart LogY(GenericChart chart)
        => chart.WithYAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);

    /// <summary>A logarithmic x axis (hyper-parameter sweeps such as λ or the learning rate).</summary>
    public static GenericChart LogX(GenericChart chart)
        => chart.WithXAxisStyle<double, double, string>(AxisType: StyleParam.AxisType.Log);

    /// <summary>Sets the chart's title.</summary>
    public static GenericChart WithTitle(GenericChart chart, string title)
        => Plotly.NET.Chart.withTitle(title, FSharpOption<Font>.None).Invoke(chart);
}

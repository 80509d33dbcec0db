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

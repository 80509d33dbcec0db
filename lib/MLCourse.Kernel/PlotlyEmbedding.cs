using MLCourse.Notebooks;

namespace MLCourse.Kernel;

/// <summary>Whether chart outputs carry plotly.js for front ends that draw their HTML fallback.</summary>
public enum PlotlyMode
{
    /// <summary>The first chart of a kernel session carries the plotly.js that Plotly.NET ships (works offline; ~3.6 MB once).</summary>
    Embed,
    /// <summary>
    /// Charts are Plotly's MIME bundle only (figure JSON + an HTML fallback without plotly.js): small outputs for front
    /// ends that draw <c>application/vnd.plotly.v1+json</c> themselves (JupyterLab, VS Code). Nothing is fetched from a CDN.
    /// </summary>
    Native,
}

/// <summary>
/// Puts plotly.js into the page once per kernel session: the first chart output (<see cref="ChartOutputs.IsChart"/>)
/// gets a script element with the library in front of its HTML. Later charts find <c>window.Plotly</c> and draw at once.
/// </summary>
internal sealed class PlotlyEmbedding(PlotlyMode mode)
{
    private int sent;

    /// <summary>The bundle with plotly.js in front of its HTML, the first time a chart passes; the bundle as is otherwise.</summary>
    public IReadOnlyDictionary<string, string> Apply(IReadOnlyDictionary<string, string> data)
    {
        if (mode != PlotlyMode.Embed || !ChartOutputs.IsChart(data) || Views.PlotlyScriptElement is null) return data;
        if (Interlocked.Exchange(ref sent, 1) == 1) return data;
        return ChartOutputs.WithPlotly(data);
    }
}

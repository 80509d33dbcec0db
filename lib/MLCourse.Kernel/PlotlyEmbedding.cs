namespace MLCourse.Kernel;

/// <summary>Where chart outputs get plotly.js from.</summary>
public enum PlotlyMode
{
    /// <summary>The first chart of a kernel session carries the plotly.js that Plotly.NET ships (works offline; ~3.6 MB once).</summary>
    Embed,
    /// <summary>Charts load plotly.js from the CDN (small outputs; needs internet in the client).</summary>
    Cdn,
}

/// <summary>
/// Puts plotly.js into the page once per kernel session: the first output whose HTML draws a Plotly.NET chart gets a
/// script element with the library in front of the chart. Later charts (and the engine's loader) find
/// <c>window.Plotly</c> and draw at once; without it the engine's loader falls back to the CDN.
/// </summary>
internal sealed class PlotlyEmbedding(PlotlyMode mode)
{
    private int sent;

    /// <summary>The HTML with plotly.js in front, the first time a chart passes; the HTML as is otherwise.</summary>
    public string Apply(string html)
    {
        if (mode != PlotlyMode.Embed || !html.Contains("renderPlotly_", StringComparison.Ordinal) || Views.PlotlyScriptElement is not { } script) return html;
        if (Interlocked.Exchange(ref sent, 1) == 1) return html;
        return script + html;
    }
}

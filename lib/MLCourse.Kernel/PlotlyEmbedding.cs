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
    private const string resource = "Plotly.NET.plotly-2.28.0.min.js";
    private static readonly Lazy<string?> script = new(Load);
    private int sent;

    /// <summary>The HTML with plotly.js in front, the first time a chart passes; the HTML as is otherwise.</summary>
    public string Apply(string html)
    {
        if (mode != PlotlyMode.Embed || !html.Contains("renderPlotly_", StringComparison.Ordinal) || script.Value is null) return html;
        if (Interlocked.Exchange(ref sent, 1) == 1) return html;
        return script.Value + html;
    }

    /// <summary>
    /// The library in a script element. Its UMD header would register an anonymous AMD module when the page has
    /// require.js (classic notebook) instead of setting window.Plotly, so define/module/exports are hidden from it.
    /// </summary>
    private static string? Load()
    {
        using var stream = typeof(Plotly.NET.GenericChart).Assembly.GetManifestResourceStream(resource);
        if (stream is null) return null;
        string js = new StreamReader(stream).ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        return "<script type=\"text/javascript\">\n"
               + "if (typeof window.Plotly === 'undefined') { (function (define, module, exports) {\n"
               + js
               + "\n}).call(window, undefined, undefined, undefined); }\n</script>\n";
    }
}

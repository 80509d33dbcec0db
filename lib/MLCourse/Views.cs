using System.Net;
using System.Text;
using Microsoft.Data.Analysis;
using MLCourse.Plots;
using Plotly.NET;
using TorchSharp;

namespace MLCourse;

/// <summary>
/// How the library's values look in a notebook, as plain strings: tensors as text, DataFrames and charts as HTML.
/// Both notebook engines (the workbook's own and .NET Interactive, through its kernel extension) register formatters
/// that call these, so a value looks the same in either. The library itself knows no engine.
/// </summary>
public static class Views
{
    /// <summary>Plotly's own MIME type: the figure as JSON (<c>data</c>, <c>layout</c>, <c>config</c>), which JupyterLab, VS Code and the book draw natively.</summary>
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";

    /// <summary>The first line of <see cref="PlotlyScriptElement"/>: tells whether an output already carries plotly.js.</summary>
    public const string PlotlyScriptMarker = "<!-- plotly.js for this notebook's charts -->";

    /// <summary>A tensor as text: shape, dtype, device, then the values (elided beyond 10,000 elements).</summary>
    public static string Tensor(torch.Tensor t)
    {
        if (t.IsInvalid) return "tensor (disposed)";
        string head = $"tensor [{string.Join(", ", t.shape)}] {t.dtype.ToString().ToLowerInvariant()} on {t.device}"
                      + (t.requires_grad ? ", requires_grad" : "");
        string values = t.numel() <= 10_000 ? t.ToString(TensorStringStyle.Numpy) : "(values elided: more than 10,000 elements)";
        return head + Environment.NewLine + values;
    }

    /// <summary>The first rows of a DataFrame as an HTML table.</summary>
    public static string DataFrameHtml(DataFrame df, int maxRows = 20)
    {
        var sb = new StringBuilder("<table><thead><tr><th></th>");
        foreach (var column in df.Columns) sb.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        sb.Append("</tr></thead><tbody>");
        long rows = Math.Min(df.Rows.Count, maxRows);
        for (long r = 0; r < rows; r++)
        {
            sb.Append("<tr><td><i>").Append(r).Append("</i></td>");
            foreach (var column in df.Columns)
                sb.Append("<td>").Append(WebUtility.HtmlEncode(Convert.ToString(column[r], System.Globalization.CultureInfo.InvariantCulture) ?? "")).Append("</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
        if (df.Rows.Count > maxRows) sb.Append($"<p>{df.Rows.Count} rows × {df.Columns.Count} columns (first {maxRows} shown)</p>");
        return sb.ToString();
    }

    /// <summary>The chart as Plotly's figure JSON (<see cref="PlotlyMimeType"/>): <c>{"data": […], "layout": {…}, "config": {…}}</c>.</summary>
    public static string ChartJson(GenericChart chart)
    {
        var (data, layout, config) = PlotlyJson.Serialize(chart);
        return $"{{\"data\":{data},\"layout\":{layout},\"config\":{config}}}";
    }

    /// <summary>
    /// The chart's HTML fallback, for front ends without a Plotly renderer: a div and a script that draws with the page's
    /// plotly.js. It never fetches plotly.js from the network: the notebook's first chart output carries it
    /// (<see cref="PlotlyScriptElement"/>, put there by the engine or the kernel extension), and a chart whose page has
    /// none after 10 s says so in its box.
    /// </summary>
    public static string ChartHtml(GenericChart chart) => ChartHtml(ChartJson(chart));

    /// <summary>The HTML fallback for a figure already in JSON (see <see cref="ChartHtml(GenericChart)"/>).</summary>
    public static string ChartHtml(string figureJson)
    {
        string id = "plotly-" + Guid.NewGuid().ToString("N");
        // The figure goes inside a <script>: no "</script" may close it early.
        string figure = figureJson.Replace("</", "<\\/", StringComparison.Ordinal);
        return $$"""
            <div class="mlcourse-plotly" id="{{id}}"></div>
            <script type="text/javascript">
            (function () {
              var figure = {{figure}};
              var draw = function () { window.Plotly.newPlot('{{id}}', figure.data, figure.layout, figure.config); };
              if (typeof window.Plotly !== 'undefined') { draw(); return; }
              var waited = 0;
              var timer = setInterval(function () {
                if (typeof window.Plotly !== 'undefined') { clearInterval(timer); draw(); return; }
                if ((waited += 100) < 10000) return;
                clearInterval(timer);
                var box = document.getElementById('{{id}}');
                if (box) box.textContent = 'This chart needs plotly.js, which the notebook\'s first chart output carries: run that cell, or open the notebook where it is present.';
              }, 100);
            })();
            </script>
            """;
    }

    /// <summary>The version of plotly.js that Plotly.NET ships and every chart is drawn with.</summary>
    public const string PlotlyJsVersion = "2.28.0";

    private static readonly Lazy<string?> plotlyJs = new(() =>
    {
        using var stream = typeof(GenericChart).Assembly.GetManifestResourceStream($"Plotly.NET.plotly-{PlotlyJsVersion}.min.js");
        return stream is null ? null : new StreamReader(stream).ReadToEnd();
    });

    private static readonly Lazy<string?> plotlyScript = new(() => plotlyJs.Value is { } js ? ScriptElement(js) : null);

    /// <summary>The plotly.js that Plotly.NET ships (minified; null if the resource is missing), for a page to load as a file.</summary>
    public static string? PlotlyJavaScript => plotlyJs.Value;

    /// <summary>
    /// The plotly.js that Plotly.NET ships, in a script element that sets <c>window.Plotly</c> (null if the resource is
    /// missing), after <see cref="PlotlyScriptMarker"/>. Put in front of a notebook's first chart, it lets charts draw
    /// offline. Its UMD header would register an anonymous AMD module when the page has require.js (classic notebook)
    /// instead, so define/module/exports are hidden.
    /// </summary>
    public static string? PlotlyScriptElement => plotlyScript.Value;

    private static string ScriptElement(string js) =>
        PlotlyScriptMarker + "\n<script type=\"text/javascript\">\n"
        + "if (typeof window.Plotly === 'undefined') { (function (define, module, exports) {\n"
        + js.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase)
        + "\n}).call(window, undefined, undefined, undefined); }\n</script>\n";
}

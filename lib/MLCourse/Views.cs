using System.Net;
using System.Text;
using System.Text.RegularExpressions;
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
public static partial class Views
{
    /// <summary>Where chart HTML gets plotly.js from when the page has none yet.</summary>
    public static string PlotlyCdn { get; set; } = "https://cdn.plot.ly/plotly-2.28.0.min";

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

    /// <summary>Chart HTML that draws with plotly.js if the page has it, else loads it (require.js or a script tag) first.</summary>
    public static string ChartHtml(GenericChart chart)
    {
        string html = PlotlyJson.Html(chart);
        var call = RenderCall().Match(html);
        if (!call.Success) return html;
        string render = call.Groups["fn"].Value;
        string loader =
            $$"""
            (function () {
              var render = {{render}};
              if (typeof window.Plotly !== 'undefined') { render(); return; }
              if (typeof window.requirejs !== 'undefined' && typeof window.requirejs.config === 'function') {
                window.requirejs.config({ paths: { plotly: '{{PlotlyCdn}}' } });
                window.requirejs(['plotly'], function (p) { window.Plotly = p; render(); });
                return;
              }
              var s = document.createElement('script');
              s.src = '{{PlotlyCdn}}.js';
              s.onload = render;
              document.head.appendChild(s);
            })();
            """;
        return html[..call.Index] + loader + html[(call.Index + call.Length)..];
    }

    [GeneratedRegex(@"(?<fn>renderPlotly_[0-9a-f]+)\(\);")]
    private static partial Regex RenderCall();

    private static readonly Lazy<string?> plotlyScript = new(LoadPlotlyScript);

    /// <summary>
    /// The plotly.js that Plotly.NET ships, in a script element that sets <c>window.Plotly</c> (null if the resource is
    /// missing). Put in front of a session's first chart, it lets charts draw offline. Its UMD header would register an
    /// anonymous AMD module when the page has require.js (classic notebook) instead, so define/module/exports are hidden.
    /// </summary>
    public static string? PlotlyScriptElement => plotlyScript.Value;

    private static string? LoadPlotlyScript()
    {
        using var stream = typeof(GenericChart).Assembly.GetManifestResourceStream("Plotly.NET.plotly-2.28.0.min.js");
        if (stream is null) return null;
        string js = new StreamReader(stream).ReadToEnd().Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);
        return "<script type=\"text/javascript\">\n"
               + "if (typeof window.Plotly === 'undefined') { (function (define, module, exports) {\n"
               + js
               + "\n}).call(window, undefined, undefined, undefined); }\n</script>\n";
    }
}

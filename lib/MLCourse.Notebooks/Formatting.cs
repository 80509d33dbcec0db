using Microsoft.Data.Analysis;
using Microsoft.DotNet.Interactive.Formatting;
using MLCourse.Training;
using Plotly.NET;
using TorchSharp;

namespace MLCourse.Notebooks;

/// <summary>
/// Turns values into MIME bundles with Microsoft.DotNet.Interactive.Formatting (the library .NET Interactive
/// used), plus the workbook's own formatters: Plotly.NET charts as Plotly's MIME bundle (figure JSON + HTML), tensors as
/// shape/dtype/device/values, DataFrames as HTML tables, progress bars as HTML.
/// </summary>
public static class ValueFormatter
{
    private static readonly object gate = new();
    private static bool registered;

    /// <summary>
    /// Registers the workbook's formatters once, and again after a cell called <c>Formatter.ResetToDefault()</c>
    /// (a sentinel type's formatter tells whether the registrations are still there).
    /// </summary>
    public static void EnsureRegistered()
    {
        lock (gate)
        {
            if (registered && Formatter.ToDisplayString(new Sentinel(), PlainTextFormatter.MimeType) == Sentinel.Text) return;
            registered = true;
            Register();
        }
    }

    private sealed class Sentinel
    {
        public const string Text = "mlcourse-formatters-registered";
    }

    private static void Register()
    {
        Formatter.Register<Sentinel>((_, writer) => writer.Write(Sentinel.Text), PlainTextFormatter.MimeType);
        Formatter.Register<LaTeXString>((l, writer) => writer.Write(l.Text), "text/latex");
        Formatter.Register<LaTeXString>((l, writer) => writer.Write(l.Text), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(LaTeXString), "text/latex");
        Formatter.Register<MathString>((m, writer) => writer.Write($"$${m.Text}$$"), "text/latex");
        Formatter.Register<MathString>((m, writer) => writer.Write(m.Text), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(MathString), "text/latex");
        Formatter.Register<JavascriptContent>((j, writer) => writer.Write(j.Code), "application/javascript");
        Formatter.Register<JavascriptContent>((j, writer) => writer.Write(j.Code), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(JavascriptContent), "application/javascript");

        // Charts as Plotly's MIME bundle: the figure JSON (drawn natively by JupyterLab, VS Code, the book) and an HTML
        // fallback; the runner and the kernel put plotly.js in front of a notebook's first chart (ChartOutputs).
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(Views.ChartJson(chart)), Views.PlotlyMimeType);
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(Views.ChartHtml(chart)), HtmlFormatter.MimeType);
        Formatter.Register<GenericChart>((chart, writer) => writer.Write("Plotly chart (shown as HTML in a notebook client)"), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(GenericChart), Views.PlotlyMimeType, HtmlFormatter.MimeType);

        Formatter.Register<torch.Tensor>((t, writer) => writer.Write(Views.Tensor(t)), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(torch.Tensor), PlainTextFormatter.MimeType);

        Formatter.Register<DataFrame>((df, writer) => writer.Write(Views.DataFrameHtml(df)), HtmlFormatter.MimeType);
        Formatter.Register<DataFrame>((df, writer) => writer.Write(df.ToString()), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(DataFrame), HtmlFormatter.MimeType);

        Formatter.Register<ProgressView>((p, writer) => writer.Write(p.Html), HtmlFormatter.MimeType);
        Formatter.Register<ProgressView>((p, writer) => writer.Write(p.Text), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(ProgressView), HtmlFormatter.MimeType);

        Formatter.Register<HtmlContent>((h, writer) => writer.Write(h.Html), HtmlFormatter.MimeType);
        Formatter.Register<HtmlContent>((h, writer) => writer.Write(h.Html), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(HtmlContent), HtmlFormatter.MimeType);
    }

    /// <summary>Formats a value: its preferred MIME types (or the ones asked for), plus text/plain.</summary>
    public static IReadOnlyDictionary<string, string> Format(object? value, params string[] mimeTypes)
    {
        EnsureRegistered();
        var data = new Dictionary<string, string>();
        if (value is null)
        {
            data[PlainTextFormatter.MimeType] = "<null>";
            return data;
        }
        var wanted = mimeTypes.Length > 0 ? mimeTypes : Formatter.GetPreferredMimeTypesFor(value.GetType()).ToArray();
        foreach (var mime in wanted.Append(PlainTextFormatter.MimeType).Distinct())
        {
            try { data[mime] = value.ToDisplayString(mime); }
            catch (Exception e) when (mime == PlainTextFormatter.MimeType) { data[mime] = $"{value.GetType().Name}: {e.Message}"; }
        }
        if (value is string s) data[PlainTextFormatter.MimeType] = s;
        return data;
    }

    /// <summary>Builds and formats a small chart once, so that the first chart a notebook draws does not pay Plotly.NET's JIT.</summary>
    internal static void WarmUp()
    {
        try
        {
            var chart = Plots.Charts.Style(Plots.Charts.Combine([Plots.Charts.Line([0.0, 1.0], [1.0, 0.0], "warm-up"), Plots.Charts.Scatter([0.5], [0.5])]), "warm-up", "x", "y");
            _ = Views.ChartHtml(chart);
        }
        catch (Exception)
        {
            // An optimisation only.
        }
    }
}

/// <summary>LaTeX to display as text/latex, as .NET Interactive's <c>LaTeXString</c>.</summary>
/// <param name="Text">The LaTeX source.</param>
public sealed record LaTeXString(string Text)
{
    /// <summary>Lets a string literal stand where a LaTeXString is expected.</summary>
    public static implicit operator LaTeXString(string text) => new(text);

    /// <inheritdoc />
    public override string ToString() => Text;
}

/// <summary>A formula shown in display math (<c>$$…$$</c>), as .NET Interactive's <c>MathString</c>.</summary>
/// <param name="Text">The formula, without dollars.</param>
public sealed record MathString(string Text)
{
    /// <summary>Lets a string literal stand where a MathString is expected.</summary>
    public static implicit operator MathString(string text) => new(text);

    /// <inheritdoc />
    public override string ToString() => Text;
}

/// <summary>JavaScript for the client to run (application/javascript), what <c>Javascript("…")</c> returns.</summary>
/// <param name="Code">The script.</param>
public sealed record JavascriptContent(string Code)
{
    /// <inheritdoc />
    public override string ToString() => Code;
}

/// <summary>Raw HTML to display as is (what <c>HTML("…")</c> returns).</summary>
/// <param name="Html">The markup.</param>
public sealed record HtmlContent(string Html)
{
    /// <inheritdoc />
    public override string ToString() => Html;
}

using System.Runtime.CompilerServices;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Formatting;
using MLCourse.Training;
using Plotly.NET;
using TorchSharp;

namespace MLCourse.DotNetInteractive;

/// <summary>
/// The workbook's extension for .NET Interactive (Polyglot Notebooks' kernel). The MLCourse package carries it in
/// <c>interactive-extensions/dotnet</c>, so the kernel loads it when a notebook's first cell runs
/// <c>#r "nuget: MLCourse, …"</c> (after that cell, before the next). It makes the notebooks behave as in the
/// workbook's own engine: Plotly.NET loads despite the kernel's older FSharp.Core, TorchSharp's native library loads
/// on systems whose libstdc++ is older than the one it was built with, charts/tensors/progress bars look the same,
/// and Interrupt stops the library's loops.
/// </summary>
public sealed class MLCourseKernelExtension : IKernelExtension
{
    /// <inheritdoc />
    public Task OnLoadAsync(Kernel kernel)
    {
        FSharpCoreBinding.Install();
        MLCourse.NativeBlas.Choose();            // before libtorch loads (next line), as the workbook's engine does
        TorchNative.PrepareIfNeeded();
        RegisterFormatters();
        MLCourse.Interactive.SetHost(new DotNetInteractiveHost(), global: true);
        return Task.CompletedTask;
    }

    private static int plotlySent;

    /// <summary>
    /// Formatters for the library's values, the same strings the workbook's engine shows (<see cref="Views"/>). Kept in
    /// a method of its own so that Plotly.NET's types are touched only after the FSharp.Core binding is installed.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static void RegisterFormatters()
    {
        // Plotly's MIME bundle, as in the workbook's engine: the figure JSON (front ends draw it natively) + an HTML fallback.
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(Views.ChartJson(chart)), Views.PlotlyMimeType);
        Formatter.Register<GenericChart>((chart, writer) => writer.Write(ChartOutput(chart)), HtmlFormatter.MimeType);
        Formatter.Register<GenericChart>((_, writer) => writer.Write("Plotly chart (shown as HTML in a notebook client)"), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(GenericChart), Views.PlotlyMimeType, HtmlFormatter.MimeType);

        Formatter.Register<torch.Tensor>((t, writer) => writer.Write(Views.Tensor(t)), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(torch.Tensor), PlainTextFormatter.MimeType);

        Formatter.Register<ProgressView>((p, writer) => writer.Write(p.Html), HtmlFormatter.MimeType);
        Formatter.Register<ProgressView>((p, writer) => writer.Write(p.Text), PlainTextFormatter.MimeType);
        Formatter.SetPreferredMimeTypesFor(typeof(ProgressView), HtmlFormatter.MimeType);
    }

    /// <summary>The chart's HTML fallback; the first chart of the kernel session also carries plotly.js, so charts draw offline.</summary>
    internal static string ChartOutput(GenericChart chart)
    {
        string html = Views.ChartHtml(chart);
        if (Views.PlotlyScriptElement is { } script && Interlocked.Exchange(ref plotlySent, 1) == 0) return script + html;
        return html;
    }
}

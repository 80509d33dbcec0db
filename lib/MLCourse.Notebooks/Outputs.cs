namespace MLCourse.Notebooks;

/// <summary>One output of a code cell, as nbformat 4 stores it.</summary>
public abstract record CellOutput;

/// <summary>Text written to stdout or stderr.</summary>
/// <param name="Name"><c>stdout</c> or <c>stderr</c>.</param>
/// <param name="Text">The text, newlines included.</param>
public sealed record StreamOutput(string Name, string Text) : CellOutput;

/// <summary>A displayed value in one or more MIME types (display_data).</summary>
/// <param name="Data">MIME type → content (text/plain, text/html, image/png as base64, …).</param>
/// <param name="DisplayId">Id that later updates replace in place, if any.</param>
public sealed record DisplayOutput(IReadOnlyDictionary<string, string> Data, string? DisplayId = null) : CellOutput;

/// <summary>The value of the cell's last expression (execute_result).</summary>
/// <param name="Data">MIME type → content.</param>
/// <param name="ExecutionCount">The cell's execution count.</param>
public sealed record ResultOutput(IReadOnlyDictionary<string, string> Data, int ExecutionCount) : CellOutput;

/// <summary>An error raised by the cell.</summary>
/// <param name="Name">Exception type name (ename).</param>
/// <param name="Value">Message (evalue).</param>
/// <param name="Traceback">Lines of the trace, the first a one-line diagnosis.</param>
public sealed record ErrorOutput(string Name, string Value, IReadOnlyList<string> Traceback) : CellOutput;

/// <summary>Receives a cell's outputs as they happen (the runner collects them; the kernel sends them to the client).</summary>
public interface IOutputSink
{
    /// <summary>A new output.</summary>
    void Add(CellOutput output);

    /// <summary>Replaces the content of the display with <paramref name="displayId"/> (update_display_data).</summary>
    void Update(string displayId, IReadOnlyDictionary<string, string> data);
}

/// <summary>An <see cref="IOutputSink"/> that keeps the outputs of one cell in order, merging adjacent stream text.</summary>
public sealed class OutputCollector : IOutputSink
{
    private readonly List<CellOutput> outputs = [];
    private readonly object gate = new();

    /// <summary>The outputs so far.</summary>
    public IReadOnlyList<CellOutput> Outputs { get { lock (gate) return outputs.ToList(); } }

    /// <inheritdoc />
    public void Add(CellOutput output)
    {
        lock (gate)
        {
            if (output is StreamOutput s && outputs.Count > 0 && outputs[^1] is StreamOutput last && last.Name == s.Name)
                outputs[^1] = last with { Text = last.Text + s.Text };
            else
                outputs.Add(output);
        }
    }

    /// <inheritdoc />
    public void Update(string displayId, IReadOnlyDictionary<string, string> data)
    {
        lock (gate)
        {
            for (int i = 0; i < outputs.Count; i++)
                if (outputs[i] is DisplayOutput d && d.DisplayId == displayId)
                    outputs[i] = d with { Data = data };
        }
    }
}

/// <summary>
/// Makes a notebook's charts draw offline: the first output that carries a chart (<see cref="Views.PlotlyMimeType"/>
/// beside its HTML fallback) gets plotly.js in front of its HTML, once per notebook, so the executed notebook opened in a
/// classic front end, nbconvert's HTML or a browser draws every chart with no network. Front ends that draw Plotly's
/// MIME type natively (JupyterLab, VS Code, the book) ignore the HTML.
/// </summary>
public static class ChartOutputs
{
    /// <summary>True when the bundle is a chart: Plotly's figure JSON with an HTML fallback.</summary>
    public static bool IsChart(IReadOnlyDictionary<string, string> data) =>
        data.ContainsKey(Views.PlotlyMimeType) && data.ContainsKey("text/html");

    /// <summary>True when the bundle's HTML already carries plotly.js.</summary>
    public static bool CarriesPlotly(IReadOnlyDictionary<string, string> data) =>
        data.TryGetValue("text/html", out var html) && html.StartsWith(Views.PlotlyScriptMarker, StringComparison.Ordinal);

    /// <summary>The bundle with plotly.js in front of its HTML (as is when it has it already, or plotly.js is missing).</summary>
    public static IReadOnlyDictionary<string, string> WithPlotly(IReadOnlyDictionary<string, string> data)
    {
        if (CarriesPlotly(data) || Views.PlotlyScriptElement is not { } script || !data.TryGetValue("text/html", out var html)) return data;
        return new Dictionary<string, string>(data) { ["text/html"] = script + html };
    }

    /// <summary>Puts plotly.js into the notebook's first chart output, unless an output carries it already; true when it did.</summary>
    public static bool EmbedPlotlyOnce(Notebook notebook)
    {
        var outputs = notebook.Cells.Where(c => c.Kind == CellKind.Code).SelectMany(c => c.Outputs.Select((o, i) => (Cell: c, Index: i, Output: o))).ToList();
        if (outputs.Any(o => Data(o.Output) is { } d && CarriesPlotly(d))) return false;
        foreach (var (cell, index, output) in outputs)
        {
            if (Data(output) is not { } data || !IsChart(data)) continue;
            var embedded = WithPlotly(data);
            if (ReferenceEquals(embedded, data)) return false;
            cell.Outputs[index] = output switch
            {
                DisplayOutput d => d with { Data = embedded },
                ResultOutput r => r with { Data = embedded },
                _ => output,
            };
            return true;
        }
        return false;
    }

    private static IReadOnlyDictionary<string, string>? Data(CellOutput output) => output switch
    {
        DisplayOutput d => d.Data,
        ResultOutput r => r.Data,
        _ => null,
    };
}

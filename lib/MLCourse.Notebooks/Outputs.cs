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

using System.Text.Json.Nodes;
using MLCourse.Notebooks;

namespace MLCourse.Kernel;

/// <summary>
/// Sends one execution's outputs to IOPub as they happen: stream (stdout/stderr, coalesced for up to 50 ms),
/// display_data and update_display_data (transient display_id), execute_result and error. Output that arrives after the
/// cell ended (a background task the cell started still writing) is sent at once, with the cell's request as parent,
/// as ipykernel does; it never throws into the writer.
/// </summary>
internal sealed class KernelSink : IOutputSink, IDisposable
{
    private readonly Action<string, JsonObject> publish;
    private readonly PlotlyEmbedding plotly;
    private readonly bool silent;
    private readonly int executionCount;
    private readonly object gate = new();
    private readonly Dictionary<string, System.Text.StringBuilder> pending = [];
    private readonly Timer timer;
    private bool disposed;

    /// <param name="publish">Sends an IOPub message (type, content) with the execute request as parent.</param>
    /// <param name="plotly">Puts plotly.js in front of the session's first chart.</param>
    /// <param name="silent">True for silent executions: nothing is published.</param>
    /// <param name="executionCount">The kernel's count for execute_result.</param>
    public KernelSink(Action<string, JsonObject> publish, PlotlyEmbedding plotly, bool silent, int executionCount)
    {
        this.publish = publish;
        this.plotly = plotly;
        this.silent = silent;
        this.executionCount = executionCount;
        timer = new Timer(_ => Flush(), null, Timeout.Infinite, Timeout.Infinite);
    }

    public void Add(CellOutput output)
    {
        if (silent) return;
        lock (gate)
        {
            switch (output)
            {
                case StreamOutput stream:
                    if (!pending.TryGetValue(stream.Name, out var text)) pending[stream.Name] = text = new();
                    text.Append(stream.Text);
                    if (disposed) FlushLocked();   // the cell has ended: no timer any more
                    else timer.Change(50, Timeout.Infinite);
                    return;
                case DisplayOutput display:
                    FlushLocked();
                    publish("display_data", new JsonObject
                    {
                        ["data"] = Bundle(display.Data),
                        ["metadata"] = new JsonObject(),
                        ["transient"] = display.DisplayId is null ? new JsonObject() : new JsonObject { ["display_id"] = display.DisplayId },
                    });
                    return;
                case ResultOutput result:
                    FlushLocked();
                    publish("execute_result", new JsonObject
                    {
                        ["execution_count"] = executionCount,
                        ["data"] = Bundle(result.Data),
                        ["metadata"] = new JsonObject(),
                    });
                    return;
                case ErrorOutput error:
                    FlushLocked();
                    publish("error", ErrorContent(error));
                    return;
            }
        }
    }

    public void Update(string displayId, IReadOnlyDictionary<string, string> data)
    {
        if (silent) return;
        lock (gate)
        {
            FlushLocked();
            publish("update_display_data", new JsonObject
            {
                ["data"] = Bundle(data),
                ["metadata"] = new JsonObject(),
                ["transient"] = new JsonObject { ["display_id"] = displayId },
            });
        }
    }

    /// <summary>Sends the stream text not yet sent.</summary>
    public void Flush()
    {
        lock (gate) FlushLocked();
    }

    /// <summary>ename, evalue, traceback of an error (iopub error and the error execute_reply share them).</summary>
    public static JsonObject ErrorContent(ErrorOutput error) => new()
    {
        ["ename"] = error.Name,
        ["evalue"] = error.Value,
        ["traceback"] = new JsonArray(error.Traceback.Select(line => (JsonNode?)JsonValue.Create(line)).ToArray()),
    };

    private void FlushLocked()
    {
        foreach (var (name, text) in pending)
        {
            if (text.Length == 0) continue;
            publish("stream", new JsonObject { ["name"] = name, ["text"] = text.ToString() });
            text.Clear();
        }
    }

    private JsonObject Bundle(IReadOnlyDictionary<string, string> data)
    {
        var bundle = new JsonObject();
        foreach (var (mime, value) in plotly.Apply(data))
        {
            if (mime == "text/html") bundle[mime] = value;
            else if (mime == "application/json" || mime.EndsWith("+json", StringComparison.Ordinal)) bundle[mime] = ParseOrText(value);
            else bundle[mime] = value;
        }
        return bundle;
    }

    private static JsonNode? ParseOrText(string value)
    {
        try { return JsonNode.Parse(value); }
        catch (System.Text.Json.JsonException) { return JsonValue.Create(value); }
    }

    public void Dispose()
    {
        lock (gate)
        {
            disposed = true;
            timer.Dispose();
            FlushLocked();
        }
    }
}

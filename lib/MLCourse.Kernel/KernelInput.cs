using System.Text.Json.Nodes;

namespace MLCourse.Kernel;

/// <summary>
/// Console.In for cells: <c>Console.ReadLine()</c> asks the client with an input_request on the stdin channel and waits
/// for the input_reply (Python's <c>input()</c> in a notebook). When the client does not allow input (allow_stdin false,
/// e.g. nbconvert) it throws at once instead of hanging; an interrupt stops the wait. <c>Console.Read()</c> reads the
/// characters of one answer (then a newline) and asks again when they are used up; <c>Console.In.ReadToEnd()</c>
/// returns one answer. What one cell left unread is not handed to the next cell.
/// </summary>
/// <remarks>
/// No lock is held while waiting for the answer: the poller thread that delivers it (<see cref="Reply"/>) takes the
/// same lock, and it also serves the control channel (interrupt).
/// </remarks>
internal sealed class KernelInput(Func<(JupyterMessage Request, KernelSink Sink, bool AllowStdin)?> current,
                                  Action<JupyterMessage, JsonObject> sendRequest) : TextReader
{
    private readonly object gate = new();
    private TaskCompletionSource<string>? pending;
    private string buffer = "";
    private JupyterMessage? bufferOwner;   // the execute request whose answer the buffer holds

    /// <summary>Called with the input_reply's content (on the poller thread: never blocks).</summary>
    public void Reply(JsonObject content)
    {
        string value = content["value"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : "";
        lock (gate) pending?.TrySetResult(value);
    }

    public override string? ReadLine()
    {
        lock (gate)
        {
            DropStale();
            if (buffer.Length > 0)
            {
                int newline = buffer.IndexOf('\n');
                string line = newline < 0 ? buffer : buffer[..newline];
                buffer = newline < 0 ? "" : buffer[(newline + 1)..];
                return line;
            }
        }
        return Ask();
    }

    public override int Read()
    {
        lock (gate)
        {
            DropStale();
            if (buffer.Length > 0) return Take();
        }
        string? answer = Ask();   // outside the lock: Reply needs it to deliver the answer
        if (answer is null) return -1;
        lock (gate)
        {
            buffer += answer + "\n";
            bufferOwner = current()?.Request;
            return Take();
        }
    }

    public override string ReadToEnd()
    {
        lock (gate)
        {
            DropStale();
            if (buffer.Length > 0)
            {
                string rest = buffer;
                buffer = "";
                return rest;
            }
        }
        return Ask() ?? "";
    }

    public override int Peek()
    {
        lock (gate)
        {
            DropStale();
            return buffer.Length > 0 ? buffer[0] : -1;
        }
    }

    private void DropStale()
    {
        if (buffer.Length > 0 && !ReferenceEquals(bufferOwner, current()?.Request)) buffer = "";
    }

    private int Take()
    {
        char c = buffer[0];
        buffer = buffer[1..];
        return c;
    }

    private string? Ask()
    {
        if (current() is not { } cell)
            return null;
        if (!cell.AllowStdin)
            throw new InvalidOperationException("Console input is not available: this notebook client does not allow input requests "
                                                + "(allow_stdin is false). Set the value in the cell instead of reading it.");
        var answer = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate) pending = answer;
        cell.Sink.Flush();   // a prompt written with Console.Write shows before the input box
        sendRequest(cell.Request, new JsonObject { ["prompt"] = "", ["password"] = false });
        var interrupted = MLCourse.Interactive.Host?.Interrupted ?? CancellationToken.None;
        try
        {
            answer.Task.Wait(interrupted);
            return answer.Task.Result;
        }
        finally
        {
            lock (gate) pending = null;
        }
    }
}

using System.Text.Json.Nodes;

namespace MLCourse.Kernel;

/// <summary>
/// Console.In for cells: <c>Console.ReadLine()</c> asks the client with an input_request on the stdin channel and waits
/// for the input_reply (Python's <c>input()</c> in a notebook). When the client does not allow input (allow_stdin false,
/// e.g. nbconvert) it throws at once instead of hanging; an interrupt stops the wait.
/// </summary>
internal sealed class KernelInput(Func<(JupyterMessage Request, KernelSink Sink, bool AllowStdin)?> current,
                                  Action<JupyterMessage, JsonObject> sendRequest) : TextReader
{
    private readonly object gate = new();
    private TaskCompletionSource<string>? pending;
    private string buffer = "";

    /// <summary>Called with the input_reply's content.</summary>
    public void Reply(JsonObject content)
    {
        lock (gate) pending?.TrySetResult(content["value"]?.GetValue<string>() ?? "");
    }

    public override string? ReadLine()
    {
        lock (gate)
        {
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
            if (buffer.Length == 0) buffer = (Ask() ?? "") + "\n";
            char c = buffer[0];
            buffer = buffer[1..];
            return c;
        }
    }

    public override int Peek()
    {
        lock (gate) return buffer.Length > 0 ? buffer[0] : -1;
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

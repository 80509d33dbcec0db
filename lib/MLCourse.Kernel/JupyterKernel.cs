using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.CodeAnalysis.CSharp;
using MLCourse.Notebooks;
using NetMQ;
using NetMQ.Sockets;

namespace MLCourse.Kernel;

/// <summary>How the kernel runs.</summary>
public sealed record KernelOptions
{
    /// <summary>Where charts get plotly.js from.</summary>
    public PlotlyMode Plotly { get; init; } = PlotlyMode.Embed;

    /// <summary>Exit when the process that started the kernel goes away (Unix: getppid changes or JPY_PARENT_PID dies).</summary>
    public bool WatchParent { get; init; } = true;

    /// <summary>Seconds after an interrupt before the kernel tells the user that the cell ignores interrupts.</summary>
    public TimeSpan InterruptGrace { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// A Jupyter kernel (messaging protocol 5.3 over ZeroMQ) on the workbook's notebook engine. One poller thread owns
/// the shell, control, stdin and IOPub sockets and sends everything queued for them; shell requests run one at a
/// time on a worker, so control (interrupt, shutdown) is served while a cell runs; the heartbeat echoes on its own
/// thread. A badly signed or unreadable message (no msg_type) is logged and ignored; every other request gets its
/// reply and an idle status whatever it contains: a field of the wrong type, an unknown request type or a handler that
/// throws gives an error reply (status "error", ename, evalue).
/// </summary>
public sealed class JupyterKernel : IDisposable
{
    private readonly ConnectionInfo connection;
    private readonly KernelOptions options;
    private readonly TextWriter log;
    private readonly MessageCodec codec;
    private readonly ScriptSession session;
    private readonly PlotlyEmbedding plotly;
    private readonly RouterSocket shell = new();
    private readonly RouterSocket control = new();
    private readonly RouterSocket stdin = new();
    private readonly PublisherSocket iopub = new();
    private readonly NetMQQueue<(NetMQSocket? Socket, List<byte[]>? Frames)> outbox = new();
    private readonly Channel<JupyterMessage> shellRequests = Channel.CreateUnbounded<JupyterMessage>(new() { SingleReader = true });
    private readonly NetMQPoller poller;
    private readonly CancellationTokenSource stopping = new();
    private volatile Running? running;

    private readonly KernelInput input;

    private sealed record Running(JupyterMessage Request, KernelSink Sink, bool AllowStdin);

    /// <summary>Creates the kernel and its session (sockets are bound by <see cref="Run"/>).</summary>
    public JupyterKernel(ConnectionInfo connection, KernelOptions? options = null, TextWriter? log = null)
    {
        this.connection = connection;
        this.options = options ?? new KernelOptions();
        this.log = log ?? TextWriter.Null;
        codec = new MessageCodec(connection.Key);
        plotly = new PlotlyEmbedding(this.options.Plotly);
        string name = Environment.GetEnvironmentVariable("JPY_SESSION_NAME") is { Length: > 0 } notebook ? Path.GetFileName(notebook) : "notebook";
        session = new ScriptSession(new SessionOptions { WorkingDirectory = Directory.GetCurrentDirectory(), Name = name });
        poller = [shell, control, stdin, outbox];
        input = new KernelInput(() => running is { } r ? (r.Request, r.Sink, r.AllowStdin) : null,
                                (request, content) => Send(stdin, codec.Create("input_request", content, request)));
    }

    /// <summary>Serves until a shutdown request (or the parent's death); returns the exit code.</summary>
    public int Run()
    {
        foreach (var socket in new NetMQSocket[] { shell, control, stdin, iopub }) socket.Options.Linger = TimeSpan.FromSeconds(1);
        try
        {
            shell.Bind(connection.Address(connection.ShellPort));
            control.Bind(connection.Address(connection.ControlPort));
            stdin.Bind(connection.Address(connection.StdinPort));
            iopub.Bind(connection.Address(connection.IOPubPort));
        }
        catch (NetMQException e)
        {
            Log($"cannot listen on the connection file's ports ({e.Message}); is another kernel using them?");
            return 1;
        }
        shell.ReceiveReady += (_, e) => Receive(e.Socket, "shell", message => shellRequests.Writer.TryWrite(message));
        control.ReceiveReady += (_, e) => Receive(e.Socket, "control", HandleControl);
        stdin.ReceiveReady += (_, e) => Receive(e.Socket, "stdin", message =>
        {
            if (message.Type == "input_reply") input.Reply(message.Content);
            else Log($"stdin: ignored {message.Type}");
        });
        Console.SetIn(input);
        outbox.ReceiveReady += (_, e) =>
        {
            while (e.Queue.TryDequeue(out var item, TimeSpan.Zero))
            {
                if (item.Socket is null) { poller.Stop(); return; }   // Shutdown: everything queued before it has gone out.
                item.Socket.SendMultipartBytes(item.Frames!);
            }
        };

        var heartbeat = new Thread(Heartbeat) { IsBackground = true, Name = "heartbeat" };
        heartbeat.Start();
        var worker = Task.Run(ServeShell);
        using var sigint = OperatingSystem.IsWindows() ? null : PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            Log("SIGINT: interrupting the running cell");
            Interrupt();
        });
        if (options.WatchParent) new Thread(WatchParent) { IsBackground = true, Name = "parent watch" }.Start();

        Publish("status", new JsonObject { ["execution_state"] = "starting" }, null);
        Log($"MLCourse C# kernel listening on {connection.Address(connection.ShellPort)} (session {codec.Session})");
        poller.Run();
        stopping.Cancel();
        shellRequests.Writer.TryComplete();
        return 0;
    }

    /// <summary>Compiles a little before the first request, so the first cell, completion and is_complete answer quickly.</summary>
    private void WarmUp()
    {
        try
        {
            ScriptSession.CheckSubmission("var x = 1;");
            session.GetCompletions("Math.", 5);
        }
        catch (Exception e)
        {
            Log($"warm-up failed: {e.Message}");
        }
    }

    /// <summary>Stops library loops in the running cell at their next step.</summary>
    public void Interrupt()
    {
        var current = running;
        session.Interrupt();
        if (current is null) return;
        _ = Task.Delay(options.InterruptGrace).ContinueWith(_ =>
        {
            if (!ReferenceEquals(running, current)) return;
            current.Sink.Add(new StreamOutput("stderr",
                $"The cell is still running {options.InterruptGrace.TotalSeconds:0} s after the interrupt: it is inside one long call that "
                + "does not return to C# (a huge tensor operation, a blocking wait), or it catches the interrupt and carries on. "
                + "Restart the kernel to stop it.\n"));
        }, TaskScheduler.Default);
    }

    private void Receive(NetMQSocket socket, string channel, Action<JupyterMessage> handle)
    {
        var frames = socket.ReceiveMultipartBytes();
        if (!codec.TryDecode(frames, out var message, out var problem))
        {
            Log($"{channel}: ignored a message ({problem})");
            return;
        }
        try { handle(message!); }
        catch (Exception e) { Log($"{channel}: {message!.Type} failed: {e}"); }
    }

    private void HandleControl(JupyterMessage request)
    {
        Publish("status", new JsonObject { ["execution_state"] = "busy" }, request);
        try
        {
            CheckContent(request);
            switch (request.Type)
            {
                case "interrupt_request":
                    Interrupt();
                    Reply(control, request, "interrupt_reply", new JsonObject { ["status"] = "ok" });
                    break;
                case "shutdown_request":
                    bool restart = Flag(request, "restart", false);
                    Reply(control, request, "shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = restart });
                    Publish("status", new JsonObject { ["execution_state"] = "idle" }, request);
                    Shutdown();
                    return;
                case "kernel_info_request":
                    Reply(control, request, "kernel_info_reply", KernelInfo());
                    break;
                default:
                    Unknown("control", request);
                    break;
            }
        }
        catch (Exception e)
        {
            Failed("control", control, request, e);
        }
        Publish("status", new JsonObject { ["execution_state"] = "idle" }, request);
    }

    /// <summary>A request field of the wrong type (<c>"silent": 0</c>): answered with an error reply naming it.</summary>
    private sealed class BadRequestException(string message) : Exception(message);

    private static void CheckContent(JupyterMessage request)
    {
        if (request.ContentProblem is { } problem) throw new BadRequestException($"{request.Type}: {problem}.");
    }

    private static bool Flag(JupyterMessage request, string field, bool fallback) => request.Content[field] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<bool>(out bool b) => b,
        var other => throw new BadRequestException($"{request.Type}: \"{field}\" must be true or false, not {other.ToJsonString()}."),
    };

    private static string Text(JupyterMessage request, string field) => request.Content[field] switch
    {
        null => "",
        JsonValue v when v.TryGetValue<string>(out var text) => text,
        var other => throw new BadRequestException($"{request.Type}: \"{field}\" must be a string, not {Shorten(other.ToJsonString())}."),
    };

    private static int? Number(JupyterMessage request, string field) => request.Content[field] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<long>(out long n) => (int)Math.Clamp(n, 0, int.MaxValue),
        var other => throw new BadRequestException($"{request.Type}: \"{field}\" must be an integer, not {Shorten(other.ToJsonString())}."),
    };

    private static string Shorten(string text) => text.Length > 60 ? text[..60] + "…" : text;

    /// <summary>An unknown <c>x_request</c> gets an <c>x_reply</c> with an error; other unknown messages are only logged.</summary>
    private void Unknown(string channel, JupyterMessage request)
    {
        Log($"{channel}: no handler for {request.Type}");
        if (request.Type.EndsWith("_request", StringComparison.Ordinal))
            throw new BadRequestException($"this kernel does not handle {request.Type}.");
    }

    /// <summary>Answers a request whose handler threw with an error reply, so that the client never waits forever.</summary>
    private void Failed(string channel, NetMQSocket socket, JupyterMessage request, Exception e)
    {
        Log($"{channel}: {request.Type} failed: {(e is BadRequestException ? e.Message : e.ToString())}");
        if (!request.Type.EndsWith("_request", StringComparison.Ordinal)) return;
        var content = new JsonObject
        {
            ["status"] = "error",
            ["ename"] = e is BadRequestException ? "BadRequest" : e.GetType().Name,
            ["evalue"] = e.Message,
            ["traceback"] = new JsonArray(JsonValue.Create(e is BadRequestException ? e.Message : e.ToString())),
        };
        if (request.Type == "execute_request") content["execution_count"] = session.ExecutionCount;
        try { Reply(socket, request, request.Type[..^"_request".Length] + "_reply", content); }
        catch (Exception again) { Log($"{channel}: the error reply to {request.Type} failed too: {again.Message}"); }
    }

    private void Shutdown()
    {
        Log("shutting down");
        session.Interrupt();
        outbox.Enqueue((null, null));
    }

    private async Task ServeShell()
    {
        // Before the first request, never beside a running cell: Roslyn's script compilations must not overlap.
        WarmUp();
        await foreach (var request in shellRequests.Reader.ReadAllAsync(stopping.Token).ConfigureAwait(false))
        {
            Publish("status", new JsonObject { ["execution_state"] = "busy" }, request);
            try
            {
                CheckContent(request);
                switch (request.Type)
                {
                    case "execute_request":
                        await Execute(request).ConfigureAwait(false);
                        break;
                    case "kernel_info_request":
                        Reply(shell, request, "kernel_info_reply", KernelInfo());
                        break;
                    case "is_complete_request":
                        Reply(shell, request, "is_complete_reply", IsComplete(Text(request, "code")));
                        break;
                    case "complete_request":
                        Reply(shell, request, "complete_reply", Complete(request));
                        break;
                    case "inspect_request":
                        Reply(shell, request, "inspect_reply", Inspect(request));
                        break;
                    case "comm_info_request":
                        Reply(shell, request, "comm_info_reply", new JsonObject { ["status"] = "ok", ["comms"] = new JsonObject() });
                        break;
                    case "history_request":
                        Reply(shell, request, "history_reply", new JsonObject { ["status"] = "ok", ["history"] = new JsonArray() });
                        break;
                    case "shutdown_request":
                        bool restart = Flag(request, "restart", false);
                        Reply(shell, request, "shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = restart });
                        Publish("status", new JsonObject { ["execution_state"] = "idle" }, request);
                        Shutdown();
                        return;
                    case "comm_open":
                        Publish("comm_close", new JsonObject { ["comm_id"] = Text(request, "comm_id"), ["data"] = new JsonObject() }, request);
                        break;
                    case "comm_msg" or "comm_close":
                        break;
                    default:
                        Unknown("shell", request);
                        break;
                }
            }
            catch (Exception e)
            {
                Failed("shell", shell, request, e);
            }
            Publish("status", new JsonObject { ["execution_state"] = "idle" }, request);
        }
    }

    private async Task Execute(JupyterMessage request)
    {
        string code = Text(request, "code");
        bool silent = Flag(request, "silent", false);
        bool storeHistory = !silent && Flag(request, "store_history", true);
        bool stopOnError = Flag(request, "stop_on_error", true);
        bool allowStdin = Flag(request, "allow_stdin", false);
        // One counter, the session's (Jupyter: only executions that store history increment it; the others report its
        // current value). Executions run one at a time, so the count the session will give is known before it runs.
        int count = storeHistory ? session.ExecutionCount + 1 : session.ExecutionCount;
        if (!silent) Publish("execute_input", new JsonObject { ["code"] = code, ["execution_count"] = count }, request);

        using var sink = new KernelSink((type, content) => Publish(type, content, request), plotly, silent, count);
        running = new Running(request, sink, allowStdin);
        CellResult result;
        try
        {
            result = await session.ExecuteAsync(code, sink, $"cell {count}", storeHistory: storeHistory).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            result = new CellResult(CellStatus.Error, count, new ErrorOutput(e.GetType().Name, e.Message, [e.ToString()]), null, TimeSpan.Zero);
        }
        finally
        {
            running = null;
        }
        sink.Flush();

        if (result.Status == CellStatus.Ok)
        {
            Reply(shell, request, "execute_reply", new JsonObject
            {
                ["status"] = "ok",
                ["execution_count"] = count,
                ["user_expressions"] = new JsonObject(),
                ["payload"] = new JsonArray(),
            });
            return;
        }
        var error = result.Error ?? new ErrorOutput("Error", result.Status.ToString(), []);
        if (result.Status == CellStatus.Interrupted)
            error = error with
            {
                Name = "KeyboardInterrupt",
                Traceback = [.. error.Traceback, "Interrupted: the cell stopped at the next step of a library loop."],
            };
        if (!silent) Publish("error", KernelSink.ErrorContent(error), request);
        var reply = KernelSink.ErrorContent(error);
        reply["status"] = "error";
        reply["execution_count"] = count;
        Reply(shell, request, "execute_reply", reply);
        if (stopOnError) AbortQueuedExecutions();
    }

    /// <summary>After a failed cell, execute requests already queued are answered "aborted" (as ipykernel does).</summary>
    private void AbortQueuedExecutions()
    {
        var keep = new List<JupyterMessage>();
        while (shellRequests.Reader.TryRead(out var queued))
        {
            if (queued.Type != "execute_request")
            {
                keep.Add(queued);
                continue;
            }
            Publish("status", new JsonObject { ["execution_state"] = "busy" }, queued);
            Reply(shell, queued, "execute_reply", new JsonObject { ["status"] = "aborted", ["execution_count"] = session.ExecutionCount });
            Publish("status", new JsonObject { ["execution_state"] = "idle" }, queued);
        }
        foreach (var message in keep) shellRequests.Writer.TryWrite(message);
    }

    private static JsonObject KernelInfo() => new()
    {
        ["status"] = "ok",
        ["protocol_version"] = MessageCodec.ProtocolVersion,
        ["implementation"] = "mlcourse",
        ["implementation_version"] = Packages.VersionOf(typeof(JupyterKernel).Assembly),
        ["language_info"] = new JsonObject
        {
            ["name"] = "C#",
            ["version"] = LanguageVersionFacts.ToDisplayString(LanguageVersion.Latest.MapSpecifiedToEffectiveVersion()),
            ["mimetype"] = "text/x-csharp",
            ["file_extension"] = ".cs",
            ["pygments_lexer"] = "csharp",
            ["codemirror_mode"] = "text/x-csharp",
        },
        ["banner"] = $"MLCourse C# kernel on .NET {Environment.Version} (Roslyn scripting). Interrupt stops any loop at its "
                     + "next step; a cell inside one long native call (a huge matrix product) is stopped only by a restart.",
        ["help_links"] = new JsonArray(),
        ["debugger"] = false,
    };

    private static JsonObject IsComplete(string code) => ScriptSession.CheckSubmission(code) switch
    {
        SubmissionState.Incomplete => new JsonObject { ["status"] = "incomplete", ["indent"] = "" },
        SubmissionState.Invalid => new JsonObject { ["status"] = "invalid" },
        _ => new JsonObject { ["status"] = "complete" },
    };

    private JsonObject Complete(JupyterMessage request)
    {
        string code = Text(request, "code");
        int cursor = Utf16Index(code, Number(request, "cursor_pos") ?? code.Length);
        var list = session.GetCompletions(code, cursor);
        var items = list.Items.Take(500).ToList();
        int start = CodePointIndex(code, list.Start), end = CodePointIndex(code, list.End);
        return new JsonObject
        {
            ["status"] = "ok",
            ["matches"] = new JsonArray(items.Select(i => (JsonNode?)JsonValue.Create(i.Text)).ToArray()),
            ["cursor_start"] = start,
            ["cursor_end"] = end,
            ["metadata"] = new JsonObject
            {
                ["_jupyter_types_experimental"] = new JsonArray(items.Select(i => (JsonNode?)new JsonObject
                {
                    ["text"] = i.Text, ["type"] = i.Kind, ["signature"] = i.Signature, ["start"] = start, ["end"] = end,
                }).ToArray()),
            },
        };
    }

    private JsonObject Inspect(JupyterMessage request)
    {
        string code = Text(request, "code");
        int cursor = Utf16Index(code, Number(request, "cursor_pos") ?? code.Length);
        string? text = session.Inspect(code, cursor);
        return new JsonObject
        {
            ["status"] = "ok",
            ["found"] = text is not null,
            ["data"] = text is null ? new JsonObject() : new JsonObject { ["text/plain"] = text },
            ["metadata"] = new JsonObject(),
        };
    }

    /// <summary>Jupyter counts cursor positions in Unicode code points; .NET strings in UTF-16 code units.</summary>
    internal static int Utf16Index(string text, int codePoints)
    {
        int index = 0;
        for (int n = 0; n < codePoints && index < text.Length; n++)
            index += char.IsHighSurrogate(text[index]) && index + 1 < text.Length ? 2 : 1;
        return index;
    }

    internal static int CodePointIndex(string text, int utf16)
    {
        int points = 0;
        for (int i = 0; i < utf16 && i < text.Length; i++)
            if (!char.IsLowSurrogate(text[i])) points++;
        return points;
    }

    private void Reply(NetMQSocket socket, JupyterMessage request, string type, JsonObject content) =>
        Send(socket, codec.Create(type, content, request));

    private void Publish(string type, JsonObject content, JupyterMessage? parent) =>
        Send(iopub, codec.Create(type, content, parent, [System.Text.Encoding.UTF8.GetBytes($"kernel.{codec.Session}.{type}")]));

    private void Send(NetMQSocket socket, JupyterMessage message)
    {
        if (!stopping.IsCancellationRequested) outbox.Enqueue((socket, codec.Encode(message)));
    }

    private void Heartbeat()
    {
        using var heartbeat = new ResponseSocket();
        heartbeat.Options.Linger = TimeSpan.Zero;
        heartbeat.Bind(connection.Address(connection.HeartbeatPort));
        var frames = new List<byte[]>();
        while (!stopping.IsCancellationRequested)
        {
            if (heartbeat.TryReceiveMultipartBytes(TimeSpan.FromMilliseconds(250), ref frames))
                heartbeat.SendMultipartBytes(frames);
        }
    }

    [DllImport("libc", EntryPoint = "getppid")]
    private static extern int GetParentProcessId();

    /// <summary>Leaves when the client that started the kernel is gone, so no orphaned kernel keeps running.</summary>
    private void WatchParent()
    {
        if (OperatingSystem.IsWindows()) return;
        int parent;
        try { parent = GetParentProcessId(); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return; }
        int.TryParse(Environment.GetEnvironmentVariable("JPY_PARENT_PID"), out int jupyterParent);
        while (!stopping.IsCancellationRequested)
        {
            Thread.Sleep(1000);
            bool gone = GetParentProcessId() != parent || jupyterParent > 1 && !IsAlive(jupyterParent);
            if (!gone) continue;
            Log("the process that started the kernel is gone; exiting");
            log.Flush();
            ProcessExit.Now(0);
        }
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    private void Log(string line)
    {
        lock (log)
        {
            log.WriteLine($"[mlcourse kernel {DateTime.Now:HH:mm:ss}] {line}");
            log.Flush();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        stopping.Cancel();
        poller.Dispose();
        foreach (var socket in new NetMQSocket[] { shell, control, stdin, iopub }) socket.Dispose();
        outbox.Dispose();
        session.Dispose();
    }
}

using System.Text;

namespace MLCourse.Notebooks;

/// <summary>A displayed output that <see cref="Update"/> replaces in place (update_display_data).</summary>
public sealed class DisplayHandle : IDisplayHandle
{
    private readonly IOutputSink sink;
    private readonly string[] mimeTypes;

    internal DisplayHandle(IOutputSink sink, string displayId, string[] mimeTypes)
    {
        this.sink = sink;
        DisplayId = displayId;
        this.mimeTypes = mimeTypes;
    }

    /// <summary>The display's id.</summary>
    public string DisplayId { get; }

    /// <summary>Replaces the displayed value.</summary>
    public void Update(object? value) => sink.Update(DisplayId, ValueFormatter.Format(value, mimeTypes));
}

/// <summary>
/// The running cell's context: where outputs go and whether the user interrupted. Flows with the execution
/// context (AsyncLocal), so display calls from awaited code and library loops reach the right cell.
/// </summary>
internal sealed class CellContext(IOutputSink sink, CancellationToken interrupted) : INotebookHost
{
    private static readonly AsyncLocal<CellContext?> current = new();

    public static CellContext? Current
    {
        get => current.Value;
        set
        {
            current.Value = value;
            Interactive.SetHost(value);
        }
    }

    public IOutputSink Sink { get; } = sink;

    public CancellationToken Interrupted { get; } = interrupted;

    public DisplayHandle Show(object? value, string[] mimeTypes)
    {
        var handle = new DisplayHandle(Sink, Guid.NewGuid().ToString("N"), mimeTypes);
        Sink.Add(new DisplayOutput(ValueFormatter.Format(value, mimeTypes), handle.DisplayId));
        return handle;
    }

    IDisplayHandle INotebookHost.Display(object? value) => Show(value, []);
}

/// <summary>
/// Display functions every cell can call without qualification (imported like .NET Interactive's
/// <c>Kernel.display</c>): <c>display(x)</c>, <c>HTML("…")</c>.
/// </summary>
public static class NotebookFunctions
{
    /// <summary>Shows <paramref name="value"/> as an output of the running cell; the handle updates it in place.</summary>
    public static DisplayHandle display(object? value, params string[] mimeTypes)
    {
        var context = CellContext.Current
                      ?? throw new InvalidOperationException("display(...) can only be called while a notebook cell runs.");
        return context.Show(value, mimeTypes);
    }

    /// <summary>Raw HTML to display.</summary>
    public static HtmlContent HTML(string html) => new(html);

    /// <summary>JavaScript for the client to run.</summary>
    public static JavascriptContent Javascript(string code) => new(code);
}

/// <summary><c>x.Display()</c>, as in .NET Interactive.</summary>
public static class DisplayExtensions
{
    /// <summary>Shows the value as an output of the running cell.</summary>
    public static DisplayHandle Display(this object? value, params string[] mimeTypes) => NotebookFunctions.display(value, mimeTypes);

    /// <summary>Shows a sequence as an HTML table, one row per item and one column per property.</summary>
    public static DisplayHandle DisplayTable<T>(this IEnumerable<T> rows) => NotebookFunctions.display(rows.ToList(), "text/html");
}

/// <summary>
/// Routes Console.Out and Console.Error to the running cell's sink (as stdout/stderr stream outputs) and to
/// the real console otherwise. Installed once per process.
/// </summary>
internal sealed class ConsoleRouter : TextWriter
{
    private static readonly object gate = new();
    private static bool installed;
    private readonly TextWriter fallback;
    private readonly string name;

    private ConsoleRouter(TextWriter fallback, string name)
    {
        this.fallback = fallback;
        this.name = name;
    }

    public override Encoding Encoding => Encoding.UTF8;

    public static void Install()
    {
        lock (gate)
        {
            if (installed) return;
            installed = true;
            Console.SetOut(new ConsoleRouter(Console.Out, "stdout"));
            Console.SetError(new ConsoleRouter(Console.Error, "stderr"));
        }
    }

    public override void Write(char value) => Write(value.ToString());

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        if (CellContext.Current is { } context) context.Sink.Add(new StreamOutput(name, value));
        else fallback.Write(value);
    }

    public override void WriteLine(string? value) => Write(value + Environment.NewLine);

    public override void Flush() => fallback.Flush();
}

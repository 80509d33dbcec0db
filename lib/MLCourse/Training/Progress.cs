using System.Diagnostics;
using System.Net;

namespace MLCourse.Training;

/// <summary>
/// A progress bar for long loops (training, downloads). In a notebook it is one output that updates in
/// place; in a console it redraws one line (or prints a line every 10% when the output is redirected).
/// Introduced in chapter 00; the trainer and the data downloader use it.
/// </summary>
public sealed class ProgressBar : IDisposable
{
    private static readonly TimeSpan minInterval = TimeSpan.FromMilliseconds(200);
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private readonly IDisplayHandle? handle;
    private readonly bool consoleRedraw = !Console.IsOutputRedirected;
    private TimeSpan lastDraw = -minInterval;
    private int lastDecile = -1;
    private bool finished;

    /// <summary>Starts a bar over <paramref name="total"/> steps (0 when unknown).</summary>
    public ProgressBar(long total, string description = "")
    {
        Total = total;
        Description = description;
        if (Interactive.Host is { } host) handle = host.Display(new ProgressView(this));
    }

    /// <summary>Number of steps in all (0 when unknown).</summary>
    public long Total { get; set; }

    /// <summary>Steps done so far.</summary>
    public long Done { get; private set; }

    /// <summary>What the loop is doing, shown before the bar.</summary>
    public string Description { get; set; }

    /// <summary>A short status after the bar, e.g. the current loss.</summary>
    public string Status { get; private set; } = "";

    /// <summary>Time since the bar started.</summary>
    public TimeSpan Elapsed => clock.Elapsed;

    /// <summary>Advances by <paramref name="steps"/> and sets the status; redraws at most five times a second.</summary>
    public void Advance(long steps = 1, string? status = null) => Report(Done + steps, status);

    /// <summary>Sets the number of steps done and the status; redraws at most five times a second.</summary>
    public void Report(long done, string? status = null)
    {
        Done = done;
        if (status is not null) Status = status;
        Interactive.ThrowIfInterrupted();
        if (!DueToDraw()) return;
        lastDraw = clock.Elapsed;
        Draw(final: false);
    }

    /// <summary>
    /// Advances by <paramref name="steps"/>; <paramref name="status"/> is called only when the bar redraws (at most five
    /// times a second, and at the last step), so a status that reads values off a GPU does not wait for it every step.
    /// Introduced in chapter 04 (the trainer's progress bar).
    /// </summary>
    public void Advance(long steps, Func<string> status)
    {
        Done += steps;
        Interactive.ThrowIfInterrupted();
        if (!DueToDraw()) return;
        Status = status();
        lastDraw = clock.Elapsed;
        Draw(final: false);
    }

    private bool DueToDraw() => (Total > 0 && Done >= Total) || clock.Elapsed - lastDraw >= minInterval;

    /// <summary>Draws the final state.</summary>
    public void Dispose()
    {
        if (finished) return;
        finished = true;
        Draw(final: true);
    }

    /// <summary>The bar as plain text: <c>epochs  60% |██████    | 3/5 [00:04&lt;00:02] loss 0.31</c>.</summary>
    public override string ToString()
    {
        const int width = 24;
        double fraction = Total > 0 ? Math.Clamp((double)Done / Total, 0, 1) : 0;
        int filled = (int)Math.Round(fraction * width);
        string bar = Total > 0 ? $"{fraction,4:P0} |{new string('█', filled)}{new string(' ', width - filled)}| {Done}/{Total}" : $"{Done}";
        string remaining = Total > 0 && Done > 0 ? $"<{Format(TimeSpan.FromTicks((long)(Elapsed.Ticks * (Total - Done) / (double)Done)))}" : "";
        string head = Description.Length > 0 ? Description + " " : "";
        string tail = Status.Length > 0 ? " " + Status : "";
        return $"{head}{bar} [{Format(Elapsed)}{remaining}]{tail}";
    }

    /// <summary>The bar as HTML, for notebooks.</summary>
    public string ToHtml()
    {
        string max = Total > 0 ? Total.ToString() : "1";
        string value = Total > 0 ? Done.ToString() : "0";
        return $"<div style=\"font-family:monospace\"><progress max=\"{max}\" value=\"{value}\" style=\"width:40%\"></progress> "
             + $"{WebUtility.HtmlEncode(ToString())}</div>";
    }

    private void Draw(bool final)
    {
        if (handle is not null)
        {
            handle.Update(new ProgressView(this));
            return;
        }
        if (consoleRedraw)
        {
            Console.Write("\r" + ToString() + (final ? Environment.NewLine : ""));
            return;
        }
        int decile = Total > 0 ? (int)(10 * Done / Total) : -1;
        if (final || decile != lastDecile)
        {
            lastDecile = decile;
            Console.WriteLine(ToString());
        }
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss") : t.ToString(@"mm\:ss");
}

/// <summary>A snapshot of a <see cref="ProgressBar"/> that a notebook formats as HTML (and plain text).</summary>
public sealed record ProgressView(string Text, string Html)
{
    internal ProgressView(ProgressBar bar) : this(bar.ToString(), bar.ToHtml()) { }

    /// <inheritdoc />
    public override string ToString() => Text;
}

/// <summary>tqdm-style helpers: wrap a loop and get a progress bar.</summary>
public static class Progress
{
    /// <summary>Iterates 0..count-1 with a progress bar.</summary>
    public static IEnumerable<int> Range(int count, string description = "")
    {
        using var bar = new ProgressBar(count, description);
        for (int i = 0; i < count; i++)
        {
            yield return i;
            bar.Advance();
        }
    }

    /// <summary>Iterates over <paramref name="items"/> with a progress bar.</summary>
    public static IEnumerable<T> Over<T>(IEnumerable<T> items, string description = "", long? total = null)
    {
        long count = total ?? (items is ICollection<T> c ? c.Count : 0);
        using var bar = new ProgressBar(count, description);
        foreach (var item in items)
        {
            yield return item;
            bar.Advance();
        }
    }
}

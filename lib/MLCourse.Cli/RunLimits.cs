namespace MLCourse.Cli;

/// <summary>
/// Default time limits of <c>mlcourse run</c> and <c>mlcourse book</c>. Quick mode is for CI and quick checks: a cell
/// that runs for ten minutes there is a bug. Full mode is the real training: fine-tuning a BERT on a laptop CPU takes
/// an hour or more in one cell, so its limits only stop a run that is stuck.
/// </summary>
internal static class RunLimits
{
    private static readonly TimeSpan QuickCell = TimeSpan.FromMinutes(10), FullCell = TimeSpan.FromHours(6);
    private static readonly TimeSpan QuickNotebook = TimeSpan.FromHours(1), FullNotebook = TimeSpan.FromHours(12);

    /// <summary>The per-cell limit: <paramref name="seconds"/> when given, else the mode's default.</summary>
    public static TimeSpan Cell(bool quick, int? seconds) =>
        seconds is { } s ? TimeSpan.FromSeconds(s) : quick ? QuickCell : FullCell;

    /// <summary>The per-notebook limit: <paramref name="seconds"/> when given, else the mode's default.</summary>
    public static TimeSpan Notebook(bool quick, int? seconds) =>
        seconds is { } s ? TimeSpan.FromSeconds(s) : quick ? QuickNotebook : FullNotebook;
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>How long one code cell of the solution ran.</summary>
/// <param name="Index">1-based position in the solution notebook.</param>
/// <param name="Id">The graded cell's question id, or null.</param>
/// <param name="Hash">SHA-256 of the cell's source (line ends normalized, trimmed): how an unchanged cell of a submission is found.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record CellTiming(int Index, string? Id, string Hash, double Seconds);

/// <summary>The solution's run time in one mode (quick or full): per cell, per question's checks, and in all.</summary>
public sealed record ModeTiming
{
    /// <summary>When it was measured (UTC) and on what (processor count), for the teacher's information.</summary>
    public string Measured { get; init; } = "";
    /// <summary>The solution's code cells.</summary>
    public List<CellTiming> Cells { get; init; } = [];
    /// <summary>Each question's checks, in seconds.</summary>
    public Dictionary<string, double> Checks { get; init; } = [];
    /// <summary>Cells and checks together, in seconds.</summary>
    [JsonIgnore] public double Total => Cells.Sum(c => c.Seconds) + Checks.Values.Sum();
}

/// <summary>
/// Time limits derived from the solution (docs/grading.md, "Time limits"): <c>mlcourse release --time</c> grades the
/// solution once and stores how long each cell and each question's checks took in <c>timing.json</c> beside the
/// homework's checks. A submission's cell then gets <see cref="GradeOptions.TimeMultiplier"/> × the matching solution
/// cell's time + <see cref="Slack"/>, at least <see cref="Floor"/>; a cell the solution does not have gets the same from
/// the solution's median cell; each question's checks likewise; the whole grading
/// <see cref="GradeOptions.TimeMultiplier"/> × the solution's total + <see cref="TotalSlack"/>. <c>--timeout</c> and
/// <c>--total-timeout</c> stay upper bounds; a larger multiplier loosens everything.
/// </summary>
public static class TimeLimits
{
    /// <summary>Added to every derived cell and check limit: a worker's JIT and first-call costs.</summary>
    public static readonly TimeSpan Slack = TimeSpan.FromSeconds(5);

    /// <summary>No derived cell or check limit is shorter.</summary>
    public static readonly TimeSpan Floor = TimeSpan.FromSeconds(10);

    /// <summary>Added to the derived total: worker starts, compilation and one restart after a cell that ran out of time.</summary>
    public static readonly TimeSpan TotalSlack = TimeSpan.FromSeconds(60);

    /// <summary>The file beside a homework's check files.</summary>
    public const string FileName = "timing.json";

    private static readonly JsonSerializerOptions json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The mode's key in <c>timing.json</c>.</summary>
    public static string Mode(bool quick) => quick ? "quick" : "full";

    /// <summary>The stored timing of <paramref name="homework"/> in <paramref name="quick"/>'s mode from the first check folder that has one, or null.</summary>
    public static ModeTiming? Load(string homework, IEnumerable<string> folders, bool quick)
    {
        foreach (string folder in folders)
        {
            string file = Path.Combine(folder, homework, FileName);
            if (!File.Exists(file)) continue;
            try
            {
                var all = JsonSerializer.Deserialize<Dictionary<string, ModeTiming>>(File.ReadAllText(file), json);
                if (all?.GetValueOrDefault(Mode(quick)) is { } timing) return timing;
            }
            catch (JsonException e) { throw new CheckFileException($"{file}: not a timing file ({e.Message})."); }
        }
        return null;
    }

    /// <summary>Stores <paramref name="timing"/> as <paramref name="quick"/>'s mode in <c>FOLDER/HOMEWORK/timing.json</c> (the other mode kept).</summary>
    public static string Save(string folder, string homework, bool quick, ModeTiming timing)
    {
        string file = Path.Combine(folder, homework, FileName);
        var all = File.Exists(file) ? JsonSerializer.Deserialize<Dictionary<string, ModeTiming>>(File.ReadAllText(file), json) ?? [] : [];
        all[Mode(quick)] = timing;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        File.WriteAllText(file, JsonSerializer.Serialize(all, json) + "\n");
        return file;
    }

    /// <summary>
    /// Grades <paramref name="solutionPath"/> once (limits not derived) and returns how long its cells and checks took.
    /// Throws <see cref="GradingException"/> when the solution does not earn full marks: its times would mean nothing.
    /// </summary>
    public static async Task<ModeTiming> MeasureAsync(string solutionPath, GradeOptions options, CancellationToken cancellationToken = default)
    {
        var checkSeconds = new Dictionary<string, double>();
        var report = await Grader.GradeAsync(solutionPath, options with { DeriveTimeLimits = false }, checkSeconds, cancellationToken);
        if (report.Score < report.MaxScore || report.Failure is not null)
            throw new GradingException($"{solutionPath} earns {report.Score} of {report.MaxScore}: fix the solution before measuring its time.\n{report.ToTable()}");
        var notebook = Notebook.Load(solutionPath);
        var cells = new List<CellTiming>();
        for (int i = 0; i < notebook.Cells.Count; i++)
            if (notebook.Cells[i].Kind == CellKind.Code && report.Cells.GetValueOrDefault(i + 1) is { } e)
                cells.Add(new CellTiming(i + 1, GradedCell.Read(notebook.Cells[i].Metadata)?.Id, Hash(notebook.Cells[i].Source), Math.Round(e.Seconds, 3)));
        return new ModeTiming
        {
            Measured = $"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} processors",
            Cells = cells,
            Checks = checkSeconds.ToDictionary(p => p.Key, p => Math.Round(p.Value, 3)),
        };
    }

    /// <summary>The limit of one step that took <paramref name="seconds"/> in the solution, at most <paramref name="ceiling"/>.</summary>
    public static TimeSpan Derive(double seconds, double multiplier, TimeSpan ceiling)
    {
        var derived = TimeSpan.FromSeconds(multiplier * seconds) + Slack;
        if (derived < Floor) derived = Floor;
        return derived < ceiling ? derived : ceiling;
    }

    /// <summary>Per code cell of <paramref name="submission"/> (1-based index), the solution's time of the matching cell.</summary>
    public static Dictionary<int, double> Match(Notebook submission, ModeTiming timing)
    {
        var byHash = timing.Cells.GroupBy(c => c.Hash).ToDictionary(g => g.Key, g => g.Max(c => c.Seconds));
        var byId = timing.Cells.Where(c => c.Id is not null).GroupBy(c => c.Id!).ToDictionary(g => g.Key, g => g.Max(c => c.Seconds));
        var sorted = timing.Cells.Select(c => c.Seconds).Order().ToArray();
        double median = sorted.Length == 0 ? 0 : sorted[sorted.Length / 2];
        var map = new Dictionary<int, double>();
        for (int i = 0; i < submission.Cells.Count; i++)
        {
            var cell = submission.Cells[i];
            if (cell.Kind != CellKind.Code) continue;
            map[i + 1] = byHash.TryGetValue(Hash(cell.Source), out var s) ? s
                : GradedCell.Read(cell.Metadata)?.Id is { } id && byId.TryGetValue(id, out var t) ? t
                : median;
        }
        return map;
    }

    /// <summary>
    /// How much slower than an idle machine this one runs now: the 1-minute load average over the processor count, at
    /// least 1 (Linux /proc/loadavg; 1 where unknown). Derived limits are multiplied by it, so that an honest submission
    /// is not cut short on a busy grading machine.
    /// </summary>
    public static double LoadFactor()
    {
        try
        {
            if (File.Exists("/proc/loadavg")
                && double.TryParse(File.ReadAllText("/proc/loadavg").Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double load))
                return Math.Max(1, load / Environment.ProcessorCount);
        }
        catch (IOException) { }
        return 1;
    }

    /// <summary>SHA-256 of a cell's source, line ends normalized and trimmed.</summary>
    public static string Hash(string source) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source.Replace("\r\n", "\n").Trim())))[..16].ToLowerInvariant();

    /// <summary>One line for the report: the solution's time, this run's, the limits.</summary>
    internal static string Describe(ModeTiming timing, double multiplier, double load, TimeSpan total) =>
        FormattableString.Invariant($"time limits from the solution ({timing.Total:0.#} s of cells and checks, measured {timing.Measured}): ")
        + FormattableString.Invariant($"{multiplier:0.#}× each cell's time")
        + (load > 1 ? FormattableString.Invariant($" × {load:0.#} (machine load)") : "")
        + FormattableString.Invariant($" + {Slack.TotalSeconds:0} s, at least {Floor.TotalSeconds:0} s; ")
        + FormattableString.Invariant($"the whole grading {total.TotalSeconds:0} s");
}

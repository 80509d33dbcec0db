using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace MLCourse.Grading;

/// <summary>What the grader sends the worker on its standard input (one JSON document, then end of file).</summary>
internal sealed record WorkerConfig
{
    /// <summary>Random per run; the grader reads only stdout lines that start with it.</summary>
    public required string Nonce { get; init; }
    /// <summary>The notebook's JSON, read by the grader (the worker never opens the submission file).</summary>
    public required string NotebookJson { get; init; }
    /// <summary>Where the notebook lives: its folder is the working directory of the cells.</summary>
    public required string NotebookPath { get; init; }
    public bool Quick { get; init; }
    public double CellTimeoutSeconds { get; init; }
    /// <summary>1-based indices of cells not to run (they crashed or timed out in an earlier worker).</summary>
    public int[] SkipCells { get; init; } = [];
    /// <summary>Checks to run, in order (questions already settled are left out).</summary>
    public WorkerCheck[] Checks { get; init; } = [];
    /// <summary>The packages the homework declares (<c>packages.txt</c>): the only ones a graded cell may <c>#r</c> besides the carried ones.</summary>
    public string[] Packages { get; init; } = [];
    /// <summary>Seed of this grading run's random inputs.</summary>
    public int Seed { get; init; }
    /// <summary>Report on file descriptor 3 (opened by the sandbox; standard output then goes to /dev/null), not on standard output.</summary>
    public bool ChannelOnFd3 { get; init; }
    /// <summary>Per code cell (1-based index) limit in seconds, derived from the solution's run time; cells not listed get <see cref="CellTimeoutSeconds"/>.</summary>
    public Dictionary<int, double> CellLimits { get; init; } = [];
    /// <summary>Per question limit of its checks in seconds; questions not listed get <see cref="CellTimeoutSeconds"/>.</summary>
    public Dictionary<string, double> CheckLimits { get; init; } = [];
}

/// <summary>One check as the worker gets it: the source comes from the grader, not from the disk.</summary>
internal sealed record WorkerCheck(string Question, double Points, string ClassName, string[] Parameters, string Source);

/// <summary>A code cell's outcome as the worker reports it.</summary>
/// <param name="Index">1-based position in the notebook.</param>
/// <param name="Status">Ok, Error, TimedOut, Interrupted; the grader adds Crashed, MemoryLimit and Skipped.</param>
/// <param name="ErrorName">Exception type (e.g. NotImplementedException) or CompilationError.</param>
/// <param name="Diagnosis">One line: <c>line 3: …</c>.</param>
/// <param name="Seconds">Wall time.</param>
public sealed record CellEvent(int Index, string Status, string? ErrorName, string? Diagnosis, double Seconds);

/// <summary>A question's outcome as the worker reports it (the grader clamps it to the question's points).</summary>
/// <param name="Question">The question id.</param>
/// <param name="Parts">Its parts as the check ran them.</param>
/// <param name="Error">Why the check could not run (compilation error…), or null.</param>
/// <param name="ErrorName">The error's type name, or null.</param>
/// <param name="Seconds">How long the check ran (wall time).</param>
internal sealed record CheckEvent(string Question, PartResult[] Parts, string? Error, string? ErrorName, double Seconds = 0);

/// <summary>Tagged lines on the worker's report channel (fd 3 in the sandbox, else its real standard output): <c>NONCE kind {json}</c>.</summary>
internal sealed class WorkerChannel(Stream stdout, string nonce)
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly object gate = new();

    public void Send(string kind, object payload)
    {
        byte[] line = Encoding.UTF8.GetBytes($"{nonce} {kind} {JsonSerializer.Serialize(payload, Json)}\n");
        lock (gate)
        {
            stdout.Write(line);
            stdout.Flush();
        }
    }
}

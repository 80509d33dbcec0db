using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary>How to start this program again for one of its hidden worker verbs (<c>run-worker</c>, <c>grade-worker</c>).</summary>
internal static class Self
{
    /// <summary>The apphost itself, or <c>dotnet exec MLCourse.Cli.dll</c>, with <paramref name="verb"/>.</summary>
    public static WorkerCommand Command(string verb)
    {
        string process = Environment.ProcessPath ?? "dotnet";
        string dll = typeof(Self).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process).Equals("dotnet", StringComparison.OrdinalIgnoreCase)
            ? new WorkerCommand(process, ["exec", dll, verb])
            : new WorkerCommand(process, [verb]);
    }
}

using System.Text.Json;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>
/// The worker process of <c>mlcourse grade</c> (the hidden verb <c>mlcourse grade-worker</c>): reads its
/// <see cref="WorkerConfig"/> from standard input, runs the notebook's code cells in one session, then each check
/// as a continuation of that session, and reports every step as a nonce-tagged line on standard output.
/// It computes no score: the grader's process does, from these reports.
/// </summary>
public static class GradeWorker
{
    /// <summary>Exit code after a cell or check timed out: the grader starts a new worker that skips it.</summary>
    public const int BrokenExitCode = 3;

    /// <summary>Runs the worker on the process's standard input and output; returns the exit code.</summary>
    public static async Task<int> RunAsync()
    {
        // Read everything the grader sends before any student code runs; the student's code then sees an empty stdin.
        string input = await new StreamReader(Console.OpenStandardInput()).ReadToEndAsync();
        var config = JsonSerializer.Deserialize<WorkerConfig>(input, WorkerChannel.Json)
                     ?? throw new InvalidOperationException("grade-worker: no configuration on standard input.");
        // In the sandbox the reports go to fd 3 and standard output to /dev/null: a line the notebook prints, forged or not,
        // never reaches the grader.
        var stream = config.ChannelOnFd3
            ? ProcessSandbox.OpenChannel() ?? throw new InvalidOperationException("grade-worker: the sandbox's report channel (fd 3) is not open.")
            : Console.OpenStandardOutput();
        var channel = new WorkerChannel(stream, config.Nonce);
        return await RunAsync(config, channel);
    }

    private static async Task<int> RunAsync(WorkerConfig config, WorkerChannel channel)
    {
        string name = Path.GetFileName(config.NotebookPath);
        var notebook = Notebook.Parse(config.NotebookJson, name);
        string folder = Path.GetDirectoryName(Path.GetFullPath(config.NotebookPath))!;
        Directory.SetCurrentDirectory(folder);
        if (config.Quick) Environment.SetEnvironmentVariable("MLCOURSE_QUICK", "1");
        else Environment.SetEnvironmentVariable("MLCOURSE_QUICK", null);
        var timeout = TimeSpan.FromSeconds(config.CellTimeoutSeconds);
        // Not disposed: after a timeout the cell's thread may still run, and the grader ends this process anyway.
        // References are locked down: only the carried packages and the ones the homework declares.
        var session = new ScriptSession(new SessionOptions { WorkingDirectory = folder, CellTimeout = timeout, Name = name, AllowedPackages = config.Packages });
        session.AddReferences(typeof(QuestionCheck).Assembly);   // check files use the grading types
        channel.Send("ready", new { cells = notebook.Cells.Count });

        var skip = config.SkipCells.ToHashSet();
        var ran = new List<string>();
        for (int i = 0; i < notebook.Cells.Count; i++)
        {
            var cell = notebook.Cells[i];
            if (cell.Kind != CellKind.Code || skip.Contains(i + 1)) continue;
            channel.Send("cell-start", new { index = i + 1 });
            ran.Add(cell.Source);
            var result = await session.ExecuteAsync(cell.Source, new OutputCollector(), $"cell {i + 1}", timeout: Limit(config.CellLimits.GetValueOrDefault(i + 1)));
            channel.Send("cell-end", new CellEvent(i + 1, result.Status.ToString(), result.Error?.Name,
                                                   result.Error is null ? null : result.Diagnosis, result.Elapsed.TotalSeconds));
            // A timed-out cell is skipped as a whole, even when it stopped: the grader runs the notebook again without it.
            if (result.Status == CellStatus.TimedOut) return BrokenExitCode;
        }

        for (int q = 0; q < config.Checks.Length; q++)
        {
            var check = config.Checks[q];
            channel.Send("check-start", new { question = check.Question });
            int seed = unchecked(config.Seed + 7919 * (q + 1));
            // The check file continues the student's session: its class sees the student's types, and its primary
            // constructor receives the student's variables and functions of the same names (functions as typed delegates;
            // a nested class cannot reach a submission's members directly).
            // Names the submission declares at its top level (a look-alike Expect, Mnist, Tensor) must not replace the
            // grader's: the check's names that its usings reach are written in full before it is compiled.
            string source = CheckBinding.Rewrite(check.Source, ran, ScriptSession.DefaultImports);
            string code = source + "\n"
                          + $"var __mlcourseGrade = global::MLCourse.Grading.CheckHost.Run(new {check.ClassName}({string.Join(", ", check.Parameters)}), "
                          + $"\"{check.Question}\", {check.Points.ToString(System.Globalization.CultureInfo.InvariantCulture)}, "
                          + $"{(config.Quick ? "true" : "false")}, {seed});\n";
            var result = await session.ExecuteAsync(code, new OutputCollector(), $"check {check.Question}", timeout: Limit(config.CheckLimits.GetValueOrDefault(check.Question)));
            if (result.Status == CellStatus.TimedOut)
            {
                channel.Send("check-timeout", new { question = check.Question });
                return BrokenExitCode;
            }
            if (result.Status == CellStatus.Ok && session.TryGetVariable<Grade>("__mlcourseGrade", out var grade) && grade is not null)
                channel.Send("result", new CheckEvent(check.Question, grade.Parts.ToArray(), null, null, result.Elapsed.TotalSeconds));
            else
                channel.Send("result", new CheckEvent(check.Question, [], result.Diagnosis, result.Error?.Name, result.Elapsed.TotalSeconds));
        }
        channel.Send("done", new { });
        return 0;

        TimeSpan? Limit(double seconds) => seconds > 0 ? TimeSpan.FromSeconds(Math.Min(seconds, config.CellTimeoutSeconds)) : null;
    }
}

/// <summary>Runs one check class in the worker (called from the check's continuation cell).</summary>
public static class CheckHost
{
    /// <summary>Runs <paramref name="check"/> and returns its parts.</summary>
    public static Grade Run(QuestionCheck check, string question, double points, bool quick, int seed)
    {
        var grade = new Grade(question, points, quick, seed);
        try { check.Run(grade); }
        catch (Exception e)
        {
            // An exception outside every Part costs the parts not yet run; they are recorded as one failed part.
            grade.Part("check", Math.Max(0, points - grade.Parts.Sum(p => p.Points)), (Action)(() => throw e));
        }
        return grade;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>How <see cref="Grader"/> grades a notebook.</summary>
public sealed record GradeOptions
{
    /// <summary>Quick mode: the worker runs with <c>MLCOURSE_QUICK=1</c> and checks use their stated lower bars.</summary>
    public bool Quick { get; init; }

    /// <summary>
    /// Longest one cell (or one question's checks) may run. With limits derived from the solution
    /// (<see cref="DeriveTimeLimits"/>) this is their upper bound.
    /// </summary>
    public TimeSpan CellTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest the whole grading may run, restarts included (the upper bound of the derived total).</summary>
    public TimeSpan TotalTimeout { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>
    /// Seed of the checks' random inputs. Null (the default) draws a fresh seed for every grading, so that answers
    /// hard-coded for one set of inputs fail; a fixed seed reproduces a grading exactly (tests of the checks' diagnoses).
    /// </summary>
    public int? Seed { get; init; }

    /// <summary>
    /// Derive each cell's, each question's and the whole grading's limit from the solution's run time stored in the
    /// homework's <c>timing.json</c> (<see cref="TimeLimits"/>), when there is one; else <see cref="CellTimeout"/> and
    /// <see cref="TotalTimeout"/> apply as they are.
    /// </summary>
    public bool DeriveTimeLimits { get; init; } = true;

    /// <summary>A cell may take this many times as long as the solution's matching cell (plus <see cref="TimeLimits.Slack"/>).</summary>
    public double TimeMultiplier { get; init; } = 5;

    /// <summary>
    /// Memory cap of the worker in MB: its resident set (managed heap plus TorchSharp's native tensors) is watched
    /// and the worker is stopped above it; the managed heap alone is capped at 3/4 of it (DOTNET_GCHeapHardLimit).
    /// </summary>
    public long MemoryLimitMb { get; init; } = 4096;

    /// <summary>Extra check folders (<c>--checks DIR</c>), added to the installation's <c>tests/Grader/checks</c>.</summary>
    public IReadOnlyList<string> CheckFolders { get; init; } = [];

    /// <summary>
    /// Where the grader is installed: its checks are <c>tests/Grader/checks</c> of the checkout above this folder (the
    /// grader's own binaries by default). Never the submission's folder nor the working directory: a submission that
    /// ships an <c>MLCourse.slnx</c> and checks of its own must not be graded by them.
    /// </summary>
    public string InstallationFolder { get; init; } = AppContext.BaseDirectory;

    /// <summary>The homework id; by default the notebook's file name (<c>hw-mnist-mlp</c>), else its graded cells' ids.</summary>
    public string? Homework { get; init; }

    /// <summary>The program that runs <see cref="GradeWorker"/> (the <c>mlcourse</c> executable, or <c>dotnet</c>).</summary>
    public required string WorkerFileName { get; init; }

    /// <summary>Its arguments, e.g. <c>["grade-worker"]</c> or <c>["exec", "MLCourse.Cli.dll", "grade-worker"]</c>.</summary>
    public IReadOnlyList<string> WorkerArguments { get; init; } = [];

    /// <summary>Progress lines (worker starts, cells, restarts), or null.</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>Grading could not run at all (no checks, the worker does not start); <c>mlcourse grade</c> exits non-zero.</summary>
public sealed class GradingException(string message) : Exception(message);

/// <summary>
/// The grader (the parent process of <c>mlcourse grade</c>). It runs the notebook and the checks in a separate
/// worker process, restarts the worker without a cell that crashed it, timed out or went over the memory cap, and
/// computes every score itself from the worker's nonce-tagged reports, clamped to the points of the check files it
/// read. A submission that prints a report or writes results.json gains nothing: the grader ignores untagged
/// output and writes the results file itself, after the worker has exited.
/// </summary>
public static class Grader
{
    /// <summary>Grades <paramref name="notebookPath"/>. A malformed notebook gives a report with <see cref="GradeReport.Failure"/> set.</summary>
    public static Task<GradeReport> GradeAsync(string notebookPath, GradeOptions options, CancellationToken cancellationToken = default) =>
        GradeAsync(notebookPath, options, new Dictionary<string, double>(), cancellationToken);

    /// <summary>Grades, and fills <paramref name="checkSeconds"/> with how long each question's checks ran.</summary>
    internal static async Task<GradeReport> GradeAsync(string notebookPath, GradeOptions options, Dictionary<string, double> checkSeconds,
                                                       CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        string path = Path.GetFullPath(notebookPath);
        if (!File.Exists(path)) throw new GradingException($"{notebookPath}: no such notebook.");
        var folders = new List<string>();
        if (CheckFiles.DefaultFolder(options.InstallationFolder) is { } installed)
            folders.Add(installed);
        folders.AddRange(options.CheckFolders.Select(f => Path.GetFullPath(f).TrimEnd(Path.DirectorySeparatorChar)));
        folders = folders.Distinct(StringComparer.Ordinal).ToList();
        if (folders.Count == 0)
            throw new GradingException("no check folder: the grader is not inside an MLCourse checkout (tests/Grader/checks); pass --checks DIR.");

        string json = await File.ReadAllTextAsync(path, cancellationToken);
        Notebook? notebook = null;
        string? failure = null;
        try { notebook = Notebook.Parse(json, notebookPath); }
        catch (NotebookFormatException e) { failure = e.Message; }

        string homework = options.Homework ?? Path.GetFileNameWithoutExtension(path);
        var checks = CheckFiles.Load(homework, folders);
        if (checks.Count == 0 && options.Homework is null && notebook is not null
            && GradedCell.Find(notebook).FirstOrDefault()?.Id.Split('.')[0] is { } fromMetadata && fromMetadata != homework)
        {
            homework = fromMetadata;
            checks = CheckFiles.Load(homework, folders);
        }
        if (checks.Count == 0)
            throw new GradingException($"no checks for homework '{homework}' in {string.Join(", ", folders)} (name the homework with --homework ID).");

        if (notebook is null)
        {
            var zero = checks.Select(c => new QuestionResult(c.Question, c.Points, 0, ["not graded: the notebook could not be read (see the error below)."], false)).ToList();
            return new GradeReport(path, zero, new Dictionary<int, CellEvent>(), [], clock.Elapsed, 0) { Failure = failure };
        }
        var timing = options.DeriveTimeLimits ? TimeLimits.Load(homework, folders, options.Quick) : null;
        return await RunAsync(path, json, notebook, checks, CheckFiles.LoadPackages(homework, folders), options, timing, checkSeconds, clock, cancellationToken);
    }

    private static async Task<GradeReport> RunAsync(string path, string json, Notebook notebook, IReadOnlyList<CheckInfo> checks,
                                                    string[] packages, GradeOptions options, ModeTiming? timing,
                                                    Dictionary<string, double> checkSeconds, Stopwatch clock, CancellationToken cancellationToken)
    {
        // Limits: derived from the solution's time where it is known, the options' fixed ones otherwise (and as ceilings).
        var cellLimits = new Dictionary<int, double>();
        var checkLimits = new Dictionary<string, double>();
        var totalLimit = options.TotalTimeout;
        double load = TimeLimits.LoadFactor();
        if (timing is not null)
        {
            // A busy machine (more runnable threads than processors) runs everything slower: the limits stretch with it.
            double multiplier = options.TimeMultiplier * load;
            foreach (var (index, seconds) in TimeLimits.Match(notebook, timing))
                cellLimits[index] = TimeLimits.Derive(seconds, multiplier, options.CellTimeout).TotalSeconds;
            foreach (var check in checks)
                checkLimits[check.Question] = TimeLimits.Derive(timing.Checks.GetValueOrDefault(check.Question), multiplier, options.CellTimeout).TotalSeconds;
            var derived = TimeSpan.FromSeconds(multiplier * timing.Total) + TimeLimits.TotalSlack;
            if (derived < totalLimit) totalLimit = derived;
            options.Log?.Invoke(TimeLimits.Describe(timing, options.TimeMultiplier, load, totalLimit));
        }
        double CellLimit(int index) => cellLimits.TryGetValue(index, out var s) ? s : options.CellTimeout.TotalSeconds;
        double CheckLimit(string question) => checkLimits.TryGetValue(question, out var s) ? s : options.CellTimeout.TotalSeconds;

        var cells = new SortedDictionary<int, CellEvent>();
        var results = new Dictionary<string, CheckEvent>();
        var settled = new Dictionary<string, string>();
        var skip = new SortedSet<int>();
        var notes = new List<string>();
        int seed = options.Seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        int codeCells = notebook.Cells.Count(c => c.Kind == CellKind.Code);
        int workers = 0;
        string? unfinished = null;
        while (workers <= codeCells + checks.Count)
        {
            var left = totalLimit - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                unfinished = $"grading reached its total time limit of {totalLimit.TotalSeconds:0} s";
                break;
            }
            var pending = checks.Where(c => !results.ContainsKey(c.Question) && !settled.ContainsKey(c.Question)).ToArray();
            var config = new WorkerConfig
            {
                Nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)),
                NotebookJson = json,
                NotebookPath = path,
                Quick = options.Quick,
                CellTimeoutSeconds = options.CellTimeout.TotalSeconds,
                SkipCells = skip.ToArray(),
                Checks = pending.Select(c => new WorkerCheck(c.Question, c.Points, c.ClassName, c.Parameters.ToArray(), c.Source)).ToArray(),
                Packages = packages,
                Seed = seed,
                CellLimits = cellLimits,
                CheckLimits = checkLimits,
            };
            workers++;
            options.Log?.Invoke($"worker {workers}: {codeCells - skip.Count} code cells, {pending.Length} question(s)"
                                + (skip.Count > 0 ? $", skipping cell(s) {string.Join(", ", skip)}" : ""));
            var run = await WorkerRun.StartAsync(config, options, left, cancellationToken);
            foreach (var e in run.CellEnds) cells[e.Index] = e;
            foreach (var r in run.Results)
                if (pending.Any(c => c.Question == r.Question) && results.TryAdd(r.Question, r)) checkSeconds[r.Question] = r.Seconds;
            foreach (string forged in run.Forged)
            {
                results.Remove(forged);
                settled[forged] = "0 points: this question was reported more than once: the notebook's code wrote to the grader's report channel.";
            }
            foreach (var note in run.SandboxNotes.Where(n => !notes.Contains("sandbox: " + n))) notes.Add("sandbox: " + note);
            if (run.Done) break;
            if (!run.Ready)
            {
                if (workers == 1)
                    throw new GradingException($"the grading worker did not start (exit code {run.ExitCode}): {run.StderrTail.Trim()}");
                unfinished = $"the grading worker stopped before it was ready (exit code {run.ExitCode})";
                break;
            }
            string why = run.MemoryKilled ? $"used more than the {options.MemoryLimitMb} MB memory limit and was stopped"
                : run.TimeKilled ? "was still running when grading reached its total time limit"
                : $"crashed the worker process (exit code {run.ExitCode}{CrashHint.Explain(run.StderrTail)})";
            if (run.TimedOutCheck is { } slowQuestion)
            {
                settled[slowQuestion] = $"0 points: checking your code took longer than the {CheckLimit(slowQuestion):0} s limit "
                                        + "(an endless loop in a function the check calls?).";
                continue;
            }
            if (run.RunningCheck is { } question)
            {
                settled[question] = $"0 points: while this question was checked, your code {why}.";
                if (run.TimeKilled) { unfinished = why; break; }
                continue;
            }
            if ((run.RunningCell ?? run.CellEnds.LastOrDefault(e => e.Status == nameof(CellStatus.TimedOut))?.Index) is int bad)
            {
                skip.Add(bad);
                string status = run.MemoryKilled ? "MemoryLimit" : run.TimeKilled ? "TimedOut" : run.RunningCell is null ? "TimedOut" : "Crashed";
                string message = run.RunningCell is null
                    ? $"ran longer than the {CellLimit(bad):0} s cell limit (an endless loop?)"
                    : why;
                cells[bad] = new CellEvent(bad, status, status, message, cells.GetValueOrDefault(bad)?.Seconds ?? 0);
                if (run.TimeKilled) { unfinished = $"{StudentCode.CellName(notebook, bad)} {message}"; break; }
                notes.Add($"{StudentCode.CellName(notebook, bad)} {message}; it was skipped and the notebook run again without it.");
                continue;
            }
            unfinished = $"the grading worker stopped unexpectedly (exit code {run.ExitCode}{CrashHint.Explain(run.StderrTail)})";
            break;
        }
        if (unfinished is not null) notes.Add(unfinished + ".");
        double own = cells.Values.Sum(c => c.Seconds) + results.Values.Sum(r => r.Seconds);
        notes.Add(FormattableString.Invariant(
                      $"time: the notebook's cells and checks ran {own:0.0} s; grading took {clock.Elapsed.TotalSeconds:0.0} s ")
                  + FormattableString.Invariant($"(overhead {clock.Elapsed.TotalSeconds - own:0.0} s: worker starts, compilation, restarts)")
                  + (timing is null
                      ? FormattableString.Invariant(
                          $"; no timing.json for this homework and mode: fixed limits of {options.CellTimeout.TotalSeconds:0} s per cell, {totalLimit.TotalSeconds:0} s in all.")
                      : $"; {TimeLimits.Describe(timing, options.TimeMultiplier, load, totalLimit)}."));
        var questions = checks.Select(c => Score(c, notebook, cells, results, settled, unfinished)).ToList();
        return new GradeReport(path, questions, cells, notes, clock.Elapsed, workers);
    }

    private static QuestionResult Score(CheckInfo check, Notebook notebook, IReadOnlyDictionary<int, CellEvent> cells,
                                        Dictionary<string, CheckEvent> results, Dictionary<string, string> settled, string? unfinished)
    {
        // The graded cell whose id is the question id or its longest prefix (private checks: "hw.q2.hidden" → "hw.q2").
        var cell = GradedCell.Find(notebook)
            .Where(g => check.Question == g.Id || check.Question.StartsWith(g.Id + ".", StringComparison.Ordinal))
            .MaxBy(g => g.Id.Length);
        var cellEvent = cell is null ? null : cells.GetValueOrDefault(cell.CellIndex);
        bool stubbed = cellEvent?.ErrorName == nameof(NotImplementedException);
        var feedback = new List<string>();
        double earned = 0;
        bool notAttempted = false;
        if (results.TryGetValue(check.Question, out var result))
        {
            if (result.Error is not null)
            {
                notAttempted = stubbed;
                feedback.Add(stubbed ? $"not attempted: {StubMessage(notebook, cellEvent!)}"
                                     : $"0 points: the check could not use your code: {result.Error}");
            }
            else
            {
                earned = result.Parts.Sum(p => Math.Clamp(p.Earned, 0, Math.Max(0, p.Points)));
                earned = Math.Round(Math.Clamp(earned, 0, check.Points), 4);
                // Nothing earned and the stub still throws (in the cell, or in a part that called the student's code):
                // the other parts failed only because they depend on it.
                notAttempted = earned == 0 && (stubbed || result.Parts.Any(p => p.NotAttempted));
                if (notAttempted)
                    feedback.Add("not attempted: " + (result.Parts.FirstOrDefault(p => p.NotAttempted) is { } part
                                                          ? Unwrap(part.Feedback)
                                                          : StubMessage(notebook, cellEvent!)));
                else
                    foreach (var p in result.Parts)
                        feedback.Add($"{(p.Earned >= p.Points ? "✓" : "✗")} {p.Name} ({Number(p.Earned)}/{Number(p.Points)}): {p.Feedback}");
            }
        }
        else if (settled.TryGetValue(check.Question, out var reason)) feedback.Add(reason);
        else feedback.Add($"not graded: {unfinished ?? "the grading worker stopped"}.");
        if (cellEvent is { Status: not "Ok" } && !notAttempted)
            feedback.Add($"{StudentCode.CellName(notebook, cellEvent.Index)} {CellStatusWords(cellEvent.Status)}: {cellEvent.Diagnosis}");
        return new QuestionResult(check.Question, check.Points, earned, feedback, notAttempted);
    }

    private static string CellStatusWords(string status) => status switch
    {
        "Error" => "failed",
        "TimedOut" => "timed out",
        "Crashed" => "crashed the worker",
        "MemoryLimit" => "went over the memory limit",
        "Interrupted" => "was interrupted",
        _ => $"({status})",
    };

    private static string StubMessage(Notebook notebook, CellEvent cell) =>
        $"{StudentCode.CellName(notebook, cell.Index)} still throws the released stub's NotImplementedException"
        + (string.IsNullOrWhiteSpace(cell.Diagnosis) ? "." : $" ({cell.Diagnosis.TrimEnd('.')}).");

    /// <summary><c>not attempted (the instruction)</c> → <c>the instruction</c>.</summary>
    private static string Unwrap(string feedback)
    {
        const string prefix = "not attempted (";
        return feedback.StartsWith(prefix, StringComparison.Ordinal) && feedback.EndsWith(')')
            ? feedback[prefix.Length..^1]
            : feedback;
    }

    private static string Number(double x) => x.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>One worker process: starts it, feeds it its configuration, reads its tagged reports, watches it.</summary>
    private sealed class WorkerRun
    {
        public List<CellEvent> CellEnds { get; } = [];
        public List<CheckEvent> Results { get; } = [];
        public bool Ready { get; private set; }
        public bool Done { get; private set; }
        public int? RunningCell { get; private set; }
        public string? RunningCheck { get; private set; }
        public string? TimedOutCheck { get; private set; }
        public bool MemoryKilled { get; private set; }
        public bool TimeKilled { get; private set; }
        public int? ExitCode { get; private set; }
        public string StderrTail { get; private set; } = "";
        /// <summary>Questions reported more than once: something besides the worker wrote to the channel.</summary>
        public HashSet<string> Forged { get; } = [];
        public List<string> SandboxNotes { get; } = [];

        public static async Task<WorkerRun> StartAsync(WorkerConfig config, GradeOptions options, TimeSpan budget, CancellationToken cancellationToken)
        {
            var run = new WorkerRun();
            using var box = WorkerSandbox.Create(config, options);
            foreach (var note in box.Notes) options.Log?.Invoke($"sandbox: {note}");
            run.SandboxNotes.AddRange(box.Notes);
            using var process = Process.Start(box.Start) ?? throw new GradingException($"cannot start {options.WorkerFileName}.");
            try
            {
                await process.StandardInput.WriteAsync(JsonSerializer.Serialize(config with { NotebookPath = box.NotebookPath, ChannelOnFd3 = box.ChannelOnFd3 }, WorkerChannel.Json));
                process.StandardInput.Close();
            }
            catch (IOException) { /* the worker died at once; its exit code and stderr tell why */ }

            string prefix = config.Nonce + " ";
            var stdout = Task.Run(async () =>
            {
                while (await process.StandardOutput.ReadLineAsync(CancellationToken.None) is { } line)
                    if (line.StartsWith(prefix, StringComparison.Ordinal)) run.Handle(line[prefix.Length..]);
            }, CancellationToken.None);
            var stderr = Task.Run(async () =>
            {
                var tail = new StringBuilder();
                var buffer = new char[4096];
                int n;
                while ((n = await process.StandardError.ReadAsync(buffer, CancellationToken.None)) > 0)
                {
                    CrashHint.Append(tail, buffer, n);
                }
                run.StderrTail = tail.ToString();
            }, CancellationToken.None);

            var deadline = Stopwatch.StartNew();
            long limitKb = options.MemoryLimitMb * 1024;
            while (!process.HasExited)
            {
                if (cancellationToken.IsCancellationRequested || deadline.Elapsed > budget)
                {
                    run.TimeKilled = true;
                    Kill(process);
                    break;
                }
                if (TreeResidentKb(process.Id) is long rss && rss > limitKb)
                {
                    run.MemoryKilled = true;
                    Kill(process);
                    break;
                }
                try { await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None); }
                catch (TimeoutException) { }
            }
            await process.WaitForExitAsync(CancellationToken.None);
            // A grandchild the student started may hold the pipes open: do not wait for it forever.
            await Task.WhenAny(Task.WhenAll(stdout, stderr), Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
            run.ExitCode = process.ExitCode;
            return run;
        }

        private void Handle(string message)
        {
            int space = message.IndexOf(' ');
            if (space < 0) return;
            string kind = message[..space], body = message[(space + 1)..];
            try
            {
                switch (kind)
                {
                    case "ready": Ready = true; break;
                    case "cell-start": RunningCell = JsonDocument.Parse(body).RootElement.GetProperty("index").GetInt32(); break;
                    case "cell-end":
                        CellEnds.Add(JsonSerializer.Deserialize<CellEvent>(body, WorkerChannel.Json)!);
                        RunningCell = null;
                        break;
                    case "check-start": RunningCheck = JsonDocument.Parse(body).RootElement.GetProperty("question").GetString(); break;
                    case "check-timeout":
                        TimedOutCheck = JsonDocument.Parse(body).RootElement.GetProperty("question").GetString();
                        RunningCheck = null;
                        break;
                    case "result":
                        var result = JsonSerializer.Deserialize<CheckEvent>(body, WorkerChannel.Json)!;
                        if (Results.Any(r => r.Question == result.Question)) Forged.Add(result.Question);
                        Results.Add(result);
                        RunningCheck = null;
                        break;
                    case "done": Done = true; break;
                }
            }
            catch (JsonException) { /* not a report of ours */ }
        }

        private static void Kill(Process process)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { /* already gone */ }
        }

        /// <summary>
        /// The resident set in kB of a process and all its descendants (Linux /proc; the worker runs under the sandbox's
        /// wrapper processes), or null where /proc is absent: then only the rlimit caps memory (see <see cref="WorkerSandbox"/>).
        /// </summary>
        private static long? TreeResidentKb(int pid)
        {
            if (!Directory.Exists("/proc/self")) return null;
            long total = 0;
            var stack = new Stack<int>([pid]);
            while (stack.Count > 0)
            {
                int p = stack.Pop();
                try
                {
                    foreach (var line in File.ReadLines($"/proc/{p}/status"))
                        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                            total += long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
                    foreach (string task in Directory.GetDirectories($"/proc/{p}/task"))
                        foreach (string child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                            stack.Push(int.Parse(child, CultureInfo.InvariantCulture));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
            }
            return total;
        }
    }
}

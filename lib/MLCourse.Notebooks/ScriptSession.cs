using System.Collections.Immutable;
using System.Diagnostics;
using System.Reflection;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;

namespace MLCourse.Notebooks;

/// <summary>How a session runs cells.</summary>
public sealed record SessionOptions
{
    /// <summary>Folder that relative <c>#r</c>/<c>#load</c>/<c>#i</c> paths start from (the notebook's folder).</summary>
    public string WorkingDirectory { get; init; } = Directory.GetCurrentDirectory();

    /// <summary>Longest a single cell may run; null for no limit.</summary>
    public TimeSpan? CellTimeout { get; init; }

    /// <summary>Name used in diagnostics and stack traces (usually the notebook's file name).</summary>
    public string Name { get; init; } = "notebook";

    /// <summary>
    /// Null (the default): cells may reference any package, DLL or script. Otherwise the only packages a cell may
    /// <c>#r "nuget:"</c> besides the carried ones (<see cref="Packages.Carried"/>); <c>#r "file.dll"</c>, <c>#load</c>
    /// and <c>#i</c> are refused (the grader's worker: a submission must not load code of its own choosing).
    /// </summary>
    public IReadOnlyCollection<string>? AllowedPackages { get; init; }
}

/// <summary>How a cell ended.</summary>
public enum CellStatus
{
    /// <summary>Ran to the end.</summary>
    Ok,
    /// <summary>Did not compile, or threw.</summary>
    Error,
    /// <summary>Ran longer than the cell timeout and was stopped (see <see cref="ScriptSession.IsBroken"/> for whether it did stop).</summary>
    TimedOut,
    /// <summary>Stopped by an interrupt.</summary>
    Interrupted,
    /// <summary>The process running the cell died (a native crash, an abort, killed for memory): see <see cref="NotebookWorker"/>.</summary>
    Crashed,
}

/// <summary>The outcome of one cell.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="ExecutionCount">The count given to this execution.</param>
/// <param name="Error">The error output, when the cell failed.</param>
/// <param name="Line">The 1-based line in the cell the error points at, when known.</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record CellResult(CellStatus Status, int ExecutionCount, ErrorOutput? Error, int? Line, TimeSpan Elapsed)
{
    /// <summary>One line: <c>line 3: error CS0103: The name 'x' does not exist…</c>.</summary>
    public string Diagnosis => Error is null ? "ok" : (Line is { } l ? $"line {l}: " : "") + FirstLine(Error.Value);

    /// <summary>The part of <see cref="Elapsed"/> spent compiling the cell (Roslyn), zero when it was not compiled.</summary>
    public TimeSpan CompileTime { get; init; }

    private static string FirstLine(string text)
    {
        string first = text.Split('\n', 2)[0].TrimEnd('\r', ' ', ':');
        return first.Length < text.TrimEnd().Length ? first + " …" : first;
    }
}

/// <summary>
/// A C# notebook session: every cell continues the state of the cells before it (Roslyn scripting), as in
/// .NET Interactive. Later cells may redeclare variables, methods and types; top-level await works; a cell's
/// trailing expression (no semicolon) is its result; values assigned before an exception are kept.
/// The same session type backs the headless runner, the Jupyter kernel and the grader.
/// </summary>
public sealed partial class ScriptSession : IDisposable
{
    /// <summary>Namespaces (and the static class of display functions) every cell sees without a using.</summary>
    public static readonly ImmutableArray<string> DefaultImports =
    [
        "System", "System.IO", "System.Text", "System.Collections", "System.Collections.Generic", "System.Linq",
        "System.Threading.Tasks", "Microsoft.DotNet.Interactive.Formatting", "MLCourse.Notebooks",
        "MLCourse.Notebooks.NotebookFunctions", "Microsoft.DotNet.Interactive.Formatting.PocketViewTags",
    ];

    private static readonly Lazy<ImmutableArray<MetadataReference>> references = new(LoadReferences);

    // Two Roslyn script compilations at once in one process were seen to bind the same reference twice
    // (CS0121, "ambiguous call" between two copies of MLCourse.Notebooks); compile one cell at a time.
    private static readonly object compileGate = new();
    private ScriptOptions scriptOptions;
    private readonly List<PackageRequest> restoredRequests = [];
    private readonly List<string> packageSources = [];
    private readonly HashSet<string> referencedNames;
    private ScriptState<object>? state;
    private int executionCount;
    private CancellationTokenSource? running;

    /// <summary>Creates a session.</summary>
    public ScriptSession(SessionOptions? options = null)
    {
        Options = options ?? new SessionOptions();
        ConsoleRouter.Install();
        ValueFormatter.EnsureRegistered();
        scriptOptions = BaseOptions()
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(Options.WorkingDirectory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(Options.WorkingDirectory));
        _ = WarmUpAsync();
        referencedNames = new HashSet<string>(
            references.Value.OfType<PortableExecutableReference>().Select(r => Path.GetFileNameWithoutExtension(r.FilePath ?? "")),
            StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Lets later cells use <paramref name="assemblies"/> (a front end's own types, e.g. the grader's check helpers),
    /// beyond the framework and what the engine carries.
    /// </summary>
    public void AddReferences(params Assembly[] assemblies)
    {
        var added = assemblies.Where(a => !string.IsNullOrEmpty(a.Location) && referencedNames.Add(a.GetName().Name ?? ""))
            .Select(a => (MetadataReference)MetadataReference.CreateFromFile(a.Location)).ToList();
        scriptOptions = scriptOptions.AddReferences(added);
    }

    /// <summary>How long a <c>#r "nuget: …"</c> restore may take.</summary>
    public static TimeSpan RestoreTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The options the session was created with.</summary>
    public SessionOptions Options { get; }

    /// <summary>
    /// True after a cell timed out and did not stop when asked (its thread is still inside native code or a loop
    /// that swallows the interrupt): it may still change the state, so the session takes no more cells.
    /// </summary>
    public bool IsBroken { get; private set; }

    /// <summary>How long a timed-out cell gets to stop after its interrupt before the session gives it up.</summary>
    public static TimeSpan StopGrace { get; set; } = TimeSpan.FromSeconds(5);

    private static int runaway;

    /// <summary>
    /// Cells in this process that timed out, did not stop, and are still running on their threads. While there are
    /// any, leave the process with <see cref="ProcessExit.Now"/>: native libraries' exit handlers (libtorch's) crash
    /// under a thread that is still using them.
    /// </summary>
    public static int RunawayCells => Volatile.Read(ref runaway);

    /// <summary>Number of cells executed so far.</summary>
    public int ExecutionCount => Volatile.Read(ref executionCount);

    /// <summary>The variables the cells have defined so far (newest declaration of each name).</summary>
    public IReadOnlyDictionary<string, object?> Variables =>
        (state?.Variables ?? []).GroupBy(v => v.Name).ToDictionary(g => g.Key, g => (object?)g.Last().Value);

    /// <summary>The value of a variable the cells defined, or default when there is none of that type.</summary>
    public bool TryGetVariable<T>(string name, out T? value)
    {
        var variable = state?.Variables.LastOrDefault(v => v.Name == name);
        if (variable?.Value is T t)
        {
            value = t;
            return true;
        }
        value = default;
        return false;
    }

    /// <summary>Asks the running cell to stop: library loops (trainer, progress bars, downloads) stop at their next step.</summary>
    public void Interrupt()
    {
        try { running?.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Runs one cell. Outputs go to <paramref name="sink"/> as they happen.</summary>
    /// <param name="source">The cell's text, magic lines included.</param>
    /// <param name="sink">Receives stream, display and result outputs (errors are in the result).</param>
    /// <param name="label">How diagnostics name the cell, e.g. <c>cell 4</c>.</param>
    /// <param name="cancellationToken">Cancelling it interrupts the cell, like <see cref="Interrupt"/>.</param>
    /// <param name="timeout">This cell's limit instead of <see cref="SessionOptions.CellTimeout"/> (the grader derives one per cell).</param>
    /// <param name="storeHistory">False for an execution that does not count (Jupyter's silent or store_history=false
    /// requests): <see cref="ExecutionCount"/> stays, and the result carries its current value.</param>
    public async Task<CellResult> ExecuteAsync(string source, IOutputSink sink, string? label = null, CancellationToken cancellationToken = default,
                                               TimeSpan? timeout = null, bool storeHistory = true)
    {
        if (IsBroken)
            throw new InvalidOperationException("A previous cell timed out and may still be running; start a new session.");
        int count = storeHistory ? Interlocked.Increment(ref executionCount) : Volatile.Read(ref executionCount);
        label ??= $"cell {count}";
        var clock = Stopwatch.StartNew();
        var magic = Magics.Parse(source);

        if (magic.OtherLanguage is { } language)
        {
            OtherLanguages.Show(language, source, sink);
            return new CellResult(CellStatus.Ok, count, null, null, clock.Elapsed);
        }
        if (Refused(magic) is { } refusal)
            return Failed(count, new ErrorOutput("ReferenceNotAllowed", refusal.Message, [$"{label}, line {refusal.Line}: {refusal.Message}"]), clock, refusal.Line);
        // Not disposed when the cell times out: its thread may still read the token. Set before the package restore, so
        // that an interrupt stops a restore (which can take minutes) too.
        var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        running = interrupt;
        packageSources.AddRange(magic.Sources.Where(src => !packageSources.Contains(src)));
        var toRestore = Packages.BindCarried(magic, sink);
        try
        {
            if (toRestore.Count > 0 && RestorePackages(toRestore, sink, label, interrupt.Token) is { } packageError)
            {
                running = null;
                return Failed(count, packageError, clock);
            }
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            running = null;
            var stopped = new ErrorOutput("OperationCanceledException", "interrupted while restoring packages (#r \"nuget: …\").", [$"{label}: interrupted"]);
            return new CellResult(CellStatus.Interrupted, count, stopped, null, clock.Elapsed);
        }
        bool time = magic.Directives.Any(d => d.Equals("time", StringComparison.OrdinalIgnoreCase));
        foreach (var directive in magic.Directives.Where(d => !d.Equals("time", StringComparison.OrdinalIgnoreCase)))
            Directives.Run(directive, sink);

        var context = new CellContext(sink, interrupt.Token);
        var done = new TaskCompletionSource<CellResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var finished = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        bool polled = false;
        var registration = interrupt.Token.Register(() => { CellInterrupt.Requested(); polled = true; });
        var thread = new Thread(() =>
        {
            CellContext.Current = context;
            try { done.SetResult(Run(magic.Code, label, count, sink, clock, interrupt.Token)); }
            catch (Exception e)
            {
                // Whatever escapes (the engine's own failure) is still this cell's error, never the front end's crash.
                var error = new ErrorOutput(e.GetType().Name, e.Message, [$"{Options.Name}: {label}: {e}"]);
                done.SetResult(Failed(count, error, clock));
            }
            finally
            {
                CellContext.Current = null;
                registration.Dispose();
                if (polled) CellInterrupt.Ended();
                finished.SetResult();
            }
        }, maxStackSize: 64 * 1024 * 1024) { IsBackground = true, Name = $"{Options.Name} {label}" };
        thread.Start();

        var cellLimit = timeout ?? Options.CellTimeout;
        var timer = cellLimit is { } t ? Task.Delay(t, CancellationToken.None) : Task.Delay(Timeout.Infinite, CancellationToken.None);
        if (await Task.WhenAny(finished.Task, timer).ConfigureAwait(false) != finished.Task)
        {
            running = null;
            interrupt.Cancel();
            bool stopped = await Task.WhenAny(finished.Task, Task.Delay(StopGrace)).ConfigureAwait(false) == finished.Task;
            string limit = $"the cell ran longer than the {cellLimit!.Value.TotalSeconds:0.#} s cell timeout";
            string message;
            if (stopped)
            {
                interrupt.Dispose();
                message = $"{limit} and was stopped (an endless loop? raise the limit with --timeout SECONDS).";
            }
            else
            {
                IsBroken = true;
                Interlocked.Increment(ref runaway);
                _ = finished.Task.ContinueWith(_ => Interlocked.Decrement(ref runaway), TaskScheduler.Default);
                message = $"{limit} and did not stop when asked (it is inside a long native call, or catches the interrupt); "
                          + "no more cells can run in this session (raise the limit with --timeout SECONDS).";
            }
            var error = new ErrorOutput("TimeoutException", message, [$"{Options.Name}: {label}: {message}"]);
            return new CellResult(CellStatus.TimedOut, count, error, null, clock.Elapsed);
        }
        running = null;
        interrupt.Dispose();
        var result = await done.Task.ConfigureAwait(false);
        if (time) sink.Add(new StreamOutput("stdout", $"Wall time: {result.Elapsed.TotalMilliseconds:0.#} ms\n"));
        return result;
    }

    /// <summary>What <see cref="SessionOptions.AllowedPackages"/> forbids in this cell: the first such line, or null.</summary>
    private (string Message, int Line)? Refused(MagicLines magic)
    {
        if (Options.AllowedPackages is not { } allowed) return null;
        foreach (var request in magic.Packages)
            if (!Packages.Carried.ContainsKey(request.Name) && !allowed.Contains(request.Name, StringComparer.OrdinalIgnoreCase))
                return ($"#r \"nuget: {request.Name}\" is not allowed here: this session takes only the packages the engine carries"
                        + (allowed.Count > 0 ? $" and {string.Join(", ", allowed)}" : "") + ".", request.Line);
        if (magic.Sources.Count > 0)
            return ("#i (a package source) is not allowed here: this session takes only the packages the engine carries.", 1);
        var lines = magic.Code.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimStart();
            if (System.Text.RegularExpressions.Regex.IsMatch(line, """^#(r|load)(\s|")"""))
                return ($"{line.Split(' ', 2)[0]} of a file is not allowed here: this session takes only the packages the engine carries.", i + 1);
        }
        return null;
    }

    /// <summary>Restores the cell's packages together with the ones earlier cells asked for, and references them.</summary>
    private ErrorOutput? RestorePackages(List<PackageRequest> requests, IOutputSink sink, string label, CancellationToken interrupt)
    {
        var all = restoredRequests.Where(r => !requests.Any(n => n.Name.Equals(r.Name, StringComparison.OrdinalIgnoreCase))).Concat(requests).ToList();
        RestoredPackages restored;
        try
        {
            restored = NuGetRestore.Restore(all, requests, packageSources, Options.WorkingDirectory, RestoreTimeout, interrupt);
        }
        catch (PackageRestoreException e)
        {
            string message = $"#r \"nuget: …\" (line {requests[0].Line}): {e.Message}";
            return new ErrorOutput("PackageRestoreError", message, [$"{label}: {message}"]);
        }
        restoredRequests.Clear();
        restoredRequests.AddRange(all);
        var added = new List<MetadataReference>();
        foreach (var path in restored.Assemblies)
            if (referencedNames.Add(Path.GetFileNameWithoutExtension(path)))
                added.Add(MetadataReference.CreateFromFile(path));
        scriptOptions = scriptOptions.AddReferences(added);
        foreach (var request in requests)
            sink.Add(new StreamOutput("stdout",
                $"Installed package {request.Name} version {restored.Packages.GetValueOrDefault(request.Name, request.Version ?? "?")}\n"));
        return null;
    }

    private CellResult Run(string code, string label, int count, IOutputSink sink, Stopwatch clock, CancellationToken interrupt)
    {
        var options = scriptOptions.WithFilePath($"{Options.Name} {label}");
        // A stream (not a string) gives the source an encoding, which debug information (line numbers) needs.
        using var text = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(LoopPolls.Instrument(code, ScriptParseOptions)));
        Script<object> script = state is null
            ? CSharpScript.Create(text, options)
            : state.Script.ContinueWith<object>(text, options);
        System.Collections.Immutable.ImmutableArray<Diagnostic> diagnostics;
        var compileStart = clock.Elapsed;
        try
        {
            lock (compileGate) diagnostics = script.Compile(interrupt);
        }
        catch (OperationCanceledException) when (interrupt.IsCancellationRequested)
        {
            var stopped = new ErrorOutput("OperationCanceledException", "interrupted before the cell started running.", [$"{label}: interrupted"]);
            return new CellResult(CellStatus.Interrupted, count, stopped, null, clock.Elapsed) { CompileTime = clock.Elapsed - compileStart };
        }
        var compileTime = clock.Elapsed - compileStart;
        var errors = diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
            return Failed(count, CompilationError(errors, label), clock, errors[0].Location.GetLineSpan().StartLinePosition.Line + 1) with { CompileTime = compileTime };

        ScriptState<object> next;
        try
        {
            next = (state is null ? script.RunAsync(null, _ => true, interrupt) : script.RunFromAsync(state, _ => true, interrupt))
                .GetAwaiter().GetResult();
        }
        catch (Exception e)
        {
            return Failed(count, RuntimeError(e, options.FilePath, label, out int? line), clock, line) with { CompileTime = compileTime };
        }
        state = next;
        if (next.Exception is { } exception)
        {
            var error = RuntimeError(exception, options.FilePath, label, out int? line);
            var status = exception is OperationCanceledException && interrupt.IsCancellationRequested ? CellStatus.Interrupted : CellStatus.Error;
            return new CellResult(status, count, error, line, clock.Elapsed) { CompileTime = compileTime };
        }
        if (HasTrailingExpression(script, out bool isVoid) && !isVoid)
        {
            // Formatting runs the user's formatters (Formatter.Register): one that throws is this cell's error.
            IReadOnlyDictionary<string, string> data;
            try { data = ValueFormatter.Format(next.ReturnValue); }
            catch (Exception e)
            {
                var error = RuntimeError(e, options.FilePath, label, out _);
                error = error with { Value = $"formatting the cell's value failed: {error.Value}" };
                return new CellResult(CellStatus.Error, count, error, null, clock.Elapsed) { CompileTime = compileTime };
            }
            sink.Add(new ResultOutput(data, count));
        }
        return new CellResult(CellStatus.Ok, count, null, null, clock.Elapsed) { CompileTime = compileTime };
    }

    private static CellResult Failed(int count, ErrorOutput error, Stopwatch clock, int? line = null) =>
        new(CellStatus.Error, count, error, line, clock.Elapsed);

    /// <summary>True when the cell ends in an expression without a semicolon (its value is the cell's result).</summary>
    private static bool HasTrailingExpression(Script<object> script, out bool isVoid)
    {
        isVoid = false;
        var compilation = script.GetCompilation();
        var tree = compilation.SyntaxTrees.LastOrDefault();
        if (tree?.GetRoot() is not CompilationUnitSyntax root
            || root.Members.LastOrDefault() is not GlobalStatementSyntax { Statement: ExpressionStatementSyntax statement }
            || !statement.SemicolonToken.IsMissing)
            return false;
        ITypeSymbol? type;
        lock (compileGate) type = compilation.GetSemanticModel(tree).GetTypeInfo(statement.Expression).Type;
        isVoid = type is null || type.SpecialType == SpecialType.System_Void;
        return true;
    }

    private static ErrorOutput CompilationError(IReadOnlyList<Diagnostic> errors, string label)
    {
        var lines = errors.Select(d =>
        {
            var position = d.Location.GetLineSpan().StartLinePosition;
            return $"{label}, line {position.Line + 1}, column {position.Character + 1}: error {d.Id}: {d.GetMessage()}";
        }).ToList();
        var first = errors[0];
        return new ErrorOutput("CompilationError", $"error {first.Id}: {first.GetMessage()}", lines);
    }

    private static ErrorOutput RuntimeError(Exception exception, string? cellPath, string label, out int? line)
    {
        while (exception is TargetInvocationException { InnerException: { } inner }) exception = inner;
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) exception = aggregate.InnerExceptions[0];
        line = null;
        var trace = new List<string> { $"{exception.GetType().FullName}: {exception.Message}" };
        foreach (var frame in new StackTrace(exception, fNeedFileInfo: true).GetFrames())
        {
            var method = frame.GetMethod();
            if (method?.DeclaringType?.Namespace?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true) continue;
            string? file = frame.GetFileName();
            if (file is not null && cellPath is not null && Path.GetFileName(file) == Path.GetFileName(cellPath))
            {
                line ??= frame.GetFileLineNumber();
                trace.Add($"   at {Describe(method)} in {label}, line {frame.GetFileLineNumber()}");
            }
            else if (method is not null && method.DeclaringType?.Namespace?.StartsWith("System.Runtime", StringComparison.Ordinal) != true)
            {
                trace.Add($"   at {Describe(method)}" + (file is null ? "" : $" in {Path.GetFileName(file)}:line {frame.GetFileLineNumber()}"));
            }
        }
        if (exception.InnerException is { } innerException)
            trace.Add($" ---> {innerException.GetType().FullName}: {innerException.Message}");
        return new ErrorOutput(exception.GetType().Name, exception.Message, trace);
    }

    private static string Describe(MethodBase? method)
    {
        if (method is null) return "?";
        string type = method.DeclaringType?.Name ?? "";
        if (type.StartsWith("<<Initialize>>", StringComparison.Ordinal) || method.Name == "<Initialize>") return "<cell>";
        if (type.StartsWith("Submission#", StringComparison.Ordinal)) return method.Name;
        return $"{type}.{method.Name}";
    }

    /// <summary>What every submission compiles with: the references, default imports, language and emit settings.</summary>
    private static ScriptOptions BaseOptions() => ScriptOptions.Default
        .WithReferences(references.Value)
        .WithImports(DefaultImports)
        .WithLanguageVersion(LanguageVersion.Latest)
        .WithOptimizationLevel(OptimizationLevel.Release)
        .WithAllowUnsafe(true)
        .WithEmitDebugInformation(true);

    private static readonly Lazy<Task> warmUp = new(() => Task.WhenAll(
        Task.Factory.StartNew(WarmUp, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default),
        Task.Run(ValueFormatter.WarmUp),
        Task.Run(WarmUpTorch)));

    // Loads libtorch (~0.25 s) before the first cell that needs it; every workbook notebook does.
    private static void WarmUpTorch()
    {
        try { using var t = TorchSharp.torch.zeros(1); }
        catch (Exception) { /* the first cell that uses torch reports a load failure with its own message */ }
    }

    /// <summary>
    /// Compiles and runs two throwaway submissions once per process, in the background, so that the JIT has compiled
    /// Roslyn's binder, emitter and script runtime before the first real cell (in a fresh process the first cells
    /// otherwise spend about half a second each compiling), formats a throwaway chart (the first Plotly.NET chart
    /// costs ~0.3 s of JIT) and loads libtorch. Sessions start it themselves; a kernel's user is still reading when it finishes.
    /// It never throws.
    /// </summary>
    public static Task WarmUpAsync() => warmUp.Value;

    private static void WarmUp()
    {
        try
        {
            var options = BaseOptions();
            const string first = """
                using MLCourse;
                using TorchSharp;
                record Point(double X, double Y);
                var points = Enumerable.Range(0, 4).Select(i => new Point(i, i * 0.5)).ToList();
                double Mean(IEnumerable<double> xs) => xs.Average();
                if (points.Count < 0) { var t = torch.tensor(new float[] { 1, 2 }).reshape(1, 2); Console.WriteLine(t.shape); Course.Seed(0); }
                string text = $"{Mean(points.Select(p => p.Y)):F2} {points[^1]}";
                var table = new Dictionary<string, List<(int Index, double Value)>>();
                foreach (var (name, i) in new[] { ("a", 1), ("b", 2) })
                {
                    if (!table.TryGetValue(name, out var list)) table[name] = list = new();
                    list.Add((i, Math.Sqrt(i)));
                }
                async Task<int> LaterAsync() { await Task.Yield(); return 1; }
                int later = await LaterAsync();
                double[] values = table.Values.SelectMany(l => l).Select(t => t.Value).OrderBy(v => v).ToArray();
                if (values.Length < 0)
                {
                    display(values);
                    MLCourse.Plots.Charts.Combine([MLCourse.Plots.Charts.Line(values, values, "a")], "t", "x", "y");
                    using var scope = torch.NewDisposeScope();
                    var model = torch.nn.Linear(2, 1);
                    var loss = torch.nn.functional.mse_loss(model.call(torch.zeros(1, 2)), torch.zeros(1, 1));
                    Console.WriteLine($"{loss.item<float>():F3} {string.Join(", ", values.Select(v => v.ToString("F2")))}");
                }
                """;
            lock (compileGate)
            {
                var script = CSharpScript.Create(first, options);
                script.Compile();
                var state = script.RunAsync().GetAwaiter().GetResult();
                var next = state.Script.ContinueWith<object>("var doubled = points.Select(p => p with { X = p.X * 2 }).ToArray(); text.Length + doubled.Length", options);
                next.Compile();
                next.RunFromAsync(state).GetAwaiter().GetResult();
            }
        }
        catch (Exception)
        {
            // Warming up is an optimisation; the first real cell reports any real problem.
        }
    }

    /// <summary>
    /// The framework plus everything the engine carries (the closure of the engine's references: the course
    /// library, TorchSharp, Plotly.NET, Microsoft.Data.Analysis, Formatting…), but not the host's own assemblies
    /// (a test runner's, the CLI's).
    /// </summary>
    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var tpa = (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .GroupBy(p => Path.GetFileNameWithoutExtension(p), StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.OrdinalIgnoreCase);
        string framework = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var chosen = new HashSet<string>(tpa.Values.Where(p => Path.GetDirectoryName(p) == framework), StringComparer.Ordinal);
        var pending = new Stack<AssemblyName>([typeof(ScriptSession).Assembly.GetName()]);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (pending.Count > 0)
        {
            var name = pending.Pop();
            if (name.Name is null || !seen.Add(name.Name) || !tpa.TryGetValue(name.Name, out var path)) continue;
            if (name.Name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal)) continue;
            chosen.Add(path);
            try
            {
                foreach (var dependency in Assembly.Load(name).GetReferencedAssemblies()) pending.Push(dependency);
            }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or BadImageFormatException) { }
        }
        return [.. chosen.Order(StringComparer.Ordinal).Select(p => MetadataReference.CreateFromFile(p))];
    }

    /// <inheritdoc />
    public void Dispose()
    {
        try { running?.Cancel(); }
        catch (ObjectDisposedException) { }
    }
}

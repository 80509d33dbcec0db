using System.CommandLine;
using System.Diagnostics;
using MLCourse.Book;
using MLCourse.Notebooks;

namespace MLCourse.Cli;

/// <summary><c>mlcourse book [--quick] -o site/ [--executed DIR] [--no-execute] [NOTEBOOK…]</c>: the workbook as a static site.</summary>
internal static class BookCommand
{
    public static Command Create()
    {
        var only = new Argument<string[]>("notebooks") { Description = "Only these chapters/homework (names or paths); default: every one in docs/course-map.md's order.", Arity = ArgumentArity.ZeroOrMore };
        var quick = new Option<bool>("--quick") { Description = "Execute the chapters in quick mode (seconds each) instead of full mode." };
        var output = new Option<string>("--output", "-o") { Description = "The folder the site is written to (replaced).", Required = true };
        var executed = new Option<string?>("--executed") { Description = "Where executed chapters are kept and reused while their source and the library's sources are unchanged (default artifacts/book/executed-quick|full)." };
        var noExecute = new Option<bool>("--no-execute") { Description = "Build only from already-executed chapters (an error when one is missing or stale)." };
        var timeout = new Option<int?>("--timeout") { Description = "Per-cell timeout in seconds (default: 600 with --quick, 6 hours in full mode)." };
        var command = new Command("book", "Build the workbook's static site: executed chapters and homework exercises, in lecture order, with search, math and charts.")
        {
            only, quick, output, executed, noExecute, timeout,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var clock = Stopwatch.StartNew();
            string? root = FindRoot(Directory.GetCurrentDirectory());
            if (root is null)
            {
                Console.Error.WriteLine("mlcourse book: run it inside the workbook's checkout (no docs/course-map.md and notebooks/ found here or above).");
                return 2;
            }
            bool isQuick = parse.GetValue(quick);
            string mode = isQuick ? "quick" : "full";
            string cache = Path.GetFullPath(parse.GetValue(executed) ?? Path.Combine(root, "artifacts", "book", "executed-" + mode));
            IReadOnlyList<(string Path, PageKind Kind)> sources;
            try { sources = CourseOrder.Notebooks(root); }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                Console.Error.WriteLine($"mlcourse book: {e.Message}");
                return 2;
            }
            var wanted = parse.GetValue(only) ?? [];
            if (wanted.Length > 0)
            {
                var names = wanted.Select(w => Path.GetFileNameWithoutExtension(w)).ToHashSet();
                var unknown = names.Where(n => !sources.Any(s => Path.GetFileNameWithoutExtension(s.Path) == n)).ToList();
                if (unknown.Count > 0)
                {
                    Console.Error.WriteLine($"mlcourse book: not in docs/course-map.md: {string.Join(", ", unknown)}.");
                    return 2;
                }
                sources = sources.Where(s => names.Contains(Path.GetFileNameWithoutExtension(s.Path))).ToList();
            }

            // Asked only when a chapter runs (it loads libtorch): a rebuild from executed chapters stays fast.
            var device = new Lazy<string>(() => Environment.GetEnvironmentVariable("MLCOURSE_DEVICE") is { Length: > 0 } d ? d : MLCourse.Course.Device.type.ToString().ToLowerInvariant());
            string library = ExecutionStamp.LibraryKey(root);
            var options = new RunOptions { Quick = isQuick, CellTimeout = RunLimits.Cell(isQuick, parse.GetValue(timeout)), TotalTimeout = RunLimits.Notebook(isQuick, null) };
            var pages = new List<BookPage>();
            int failed = 0, ran = 0;
            foreach (var (path, kind) in sources)
            {
                string slug = Path.GetFileNameWithoutExtension(path);
                if (kind == PageKind.Homework)
                {
                    var exercise = NotebookFiles.Load(path);
                    exercise.ClearOutputs();
                    pages.Add(new BookPage(slug, kind, exercise, null));
                    continue;
                }
                string sha = ExecutionStamp.Sha256(path);
                string copy = Path.Combine(cache, slug + ".ipynb");
                if (File.Exists(copy) && NotebookFiles.Load(copy) is var cached && ExecutionStamp.ReadFrom(cached) is { } stamp && stamp.SourceSha256 == sha && stamp.Mode == mode
                    && stamp.Build == library)
                {
                    pages.Add(new BookPage(slug, kind, cached, stamp));
                    continue;
                }
                if (parse.GetValue(noExecute))
                {
                    Console.Error.WriteLine($"✗ {slug}: no executed copy of the current notebook and library in {cache} (run without --no-execute).");
                    failed++;
                    continue;
                }
                Console.WriteLine($"▶ {slug} ({mode})");
                var notebook = NotebookFiles.Load(path);
                var report = await NotebookWorker.RunAsync(notebook, options, Self.Command("run-worker"), cancellationToken);
                ran++;
                if (!report.Succeeded)
                {
                    foreach (var line in report.Diagnoses) Console.Error.WriteLine($"✗ {line}");
                    failed++;
                    continue;
                }
                var done = new ExecutionStamp(DateTimeOffset.UtcNow, mode, device.Value, sha, library);
                done.WriteTo(notebook);
                Directory.CreateDirectory(cache);
                notebook.Save(copy);
                Console.WriteLine($"✓ {slug}: {report.Elapsed.TotalSeconds:0.0} s");
                pages.Add(new BookPage(slug, kind, notebook, done));
            }
            if (failed > 0)
            {
                Console.Error.WriteLine($"mlcourse book: {failed} notebook(s) failed; no site written.");
                return 1;
            }

            string assets = Path.Combine(root, "build", "site");
            if (!Directory.Exists(Path.Combine(assets, "node_modules")) && !NpmCi(assets)) return 1;
            var site = Stopwatch.StartNew();
            IReadOnlyList<string> written;
            try { written = SiteWriter.Write(pages, new SiteOptions { OutputFolder = parse.GetValue(output)!, AssetsFolder = Path.Combine(assets, "node_modules") }); }
            catch (FileNotFoundException e)
            {
                Console.Error.WriteLine($"mlcourse book: {e.Message}");
                return 1;
            }
            Console.WriteLine($"Wrote {written.Count} pages to {Path.GetFullPath(parse.GetValue(output)!)} in {site.Elapsed.TotalSeconds:0.0} s "
                              + $"({ran} chapter(s) executed, {pages.Count(p => p.Stamp is not null) - ran} reused; {clock.Elapsed.TotalSeconds:0.0} s in all).");
            return 0;
        });
        return command;
    }

    private static string? FindRoot(string from)
    {
        for (var dir = new DirectoryInfo(from); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "docs", "course-map.md")) && Directory.Exists(Path.Combine(dir.FullName, "notebooks"))) return dir.FullName;
        return null;
    }

    /// <summary>Installs the site's browser libraries (KaTeX, highlight.js, MiniSearch) from build/site/package-lock.json.</summary>
    private static bool NpmCi(string folder)
    {
        Console.WriteLine($"Installing the site's browser libraries: npm ci in {folder}");
        try
        {
            using var npm = Process.Start(new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund"]) { WorkingDirectory = folder })!;
            npm.WaitForExit();
            if (npm.ExitCode == 0) return true;
            Console.Error.WriteLine($"mlcourse book: npm ci failed in {folder} (exit code {npm.ExitCode}).");
        }
        catch (System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"mlcourse book: npm is not on the PATH; install Node.js, or run `npm ci` in {folder} yourself.");
        }
        return false;
    }
}

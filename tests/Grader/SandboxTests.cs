using System.Security.Cryptography;
using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

// Each attack of issue 16 on the untouched exercise (honest score 0 of 12), graded by a throwaway installation (a copy of
// the checks and the solution beside an MLCourse.slnx), so that an attack that gets through damages only that copy.

/// <summary>A throwaway grading installation: MLCourse.slnx, tests/Grader/checks (copied), solutions/ (copied).</summary>
internal sealed class Installation
{
    public Installation()
    {
        Root = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", "install-" + Guid.NewGuid().ToString("N")[..8]);
        Checks = Path.Combine(Root, "tests", "Grader", "checks");
        Directory.CreateDirectory(Path.Combine(Checks, "hw-mnist-mlp"));
        foreach (var file in Directory.GetFiles(Path.Combine(GraderFixture.ChecksFolder, "hw-mnist-mlp")))
            File.Copy(file, Path.Combine(Checks, "hw-mnist-mlp", Path.GetFileName(file)));
        Directory.CreateDirectory(Path.Combine(Root, "solutions"));
        Solution = Path.Combine(Root, "solutions", "hw-mnist-mlp.ipynb");
        File.Copy(GraderFixture.SolutionPath, Solution);
        File.WriteAllText(Path.Combine(Root, "MLCourse.slnx"), "<Solution />\n");
    }

    public string Root { get; }
    public string Checks { get; }
    public string Solution { get; }
    public string Q1 => Path.Combine(Checks, "hw-mnist-mlp", "q1.csx");

    /// <summary>The fixed limits (5 min a cell): an attack that is slow on a busy machine must still run to its end.</summary>
    public GradeOptions Options() => GraderFixture.Options() with { CheckFolders = [], InstallationFolder = Root, DeriveTimeLimits = false };

    /// <summary>Hash of every file under the installation, by path.</summary>
    public Dictionary<string, string> Snapshot() => Directory.GetFiles(Root, "*", SearchOption.AllDirectories)
        .ToDictionary(f => f, f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));

    /// <summary>The last <paramref name="count"/> cells (the attack) compiled and ran: a test that passes because its attack did not compile proves nothing.</summary>
    public static void AssertRan(GradeReport report, string path, int count = 1)
    {
        int cells = Notebook.Load(path).Cells.Count;
        for (int i = cells - count + 1; i <= cells; i++)
            Assert.True(report.Cells.TryGetValue(i, out var cell) && cell.Status == "Ok",
                        $"attack cell {i}: {(cell is null ? "not run" : $"{cell.Status} {cell.Diagnosis}")}\n{report.ToTable()}");
    }

    /// <summary>The exercise with <paramref name="cells"/> appended as code cells.</summary>
    public static string Exercise(params string[] cells)
    {
        var notebook = Notebook.Load(GraderFixture.ExercisePath);
        foreach (var source in cells) notebook.Cells.Add(new Cell(CellKind.Code, source, Notebook.CSharpCellMetadata()));
        return GraderFixture.Save(notebook);
    }
}

public sealed class DetachedChildTests
{
    [Fact]
    public async Task A_detached_child_that_outlives_the_worker_is_killed_with_it()
    {
        if (!OperatingSystem.IsLinux()) return;
        var install = new Installation();
        string marker = Path.Combine(Path.GetTempPath(), "mlcourse-detached-" + Guid.NewGuid().ToString("N"));
        // setsid -f, stdio closed: the child waits for the worker to exit, then writes (the real attack rewrote results.json).
        string path = Installation.Exercise($$"""
            var child = System.Diagnostics.Process.Start("/bin/sh", new[] { "-c",
                $"setsid -f sh -c 'exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 0.1; done; echo forged > {{marker}}'" });
            child.WaitForExit();
            """);
        var report = await GraderFixture.GradeAsync(path, install.Options());
        Assert.True(report.Score == 0, report.ToTable());
        Installation.AssertRan(report, path);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(File.Exists(marker), "a process the submission started outlived the grading worker and wrote " + marker + "\n" + report.ToTable());
    }
}

public sealed class LookAlikeTypeTests
{
    [Fact]
    public async Task Look_alike_Expect_Mnist_and_model_types_do_not_replace_the_graders()
    {
        var install = new Installation();
        string path = Installation.Exercise("""
            using TorchSharp;
            static class Expect
            {
                public static void That(bool condition, string message) { }
                public static void Shape(torch.Tensor actual, long[] expected, string what) { }
                public static void Close(torch.Tensor actual, torch.Tensor expected, string what, double atol = 1e-5, double rtol = 1e-4, string? hint = null) { }
                public static void Close(double actual, double expected, string what, double tolerance, string? hint = null) { }
                public static string Format(IEnumerable<long> shape) => "";
            }
            sealed class Mnist : IDisposable
            {
                public static Mnist Load() => new();
                public void Dispose() { }
            }
            sealed class Mlp : torch.nn.Module<torch.Tensor, torch.Tensor>
            {
                public Mlp(long inputs, long hidden1, long hidden2, long outputs) : base("Mlp") { }
                public override torch.Tensor forward(torch.Tensor x) => torch.zeros(x.shape[0], 1);
            }
            double Accuracy(torch.Tensor logits, torch.Tensor labels) => 0.5;
            """);
        var report = await GraderFixture.GradeAsync(path, install.Options());
        Assert.True(report.Score == 0, report.ToTable());
        Installation.AssertRan(report, path);
    }
}

public sealed class ForgedReportTests
{
    [Fact]
    public async Task Result_lines_forged_from_the_workers_memory_earn_nothing()
    {
        if (!OperatingSystem.IsLinux()) return;
        var install = new Installation();
        // Scans its own memory for the protocol's nonce (32 hex digits), then writes a
        // full-marks report for every question, on standard output and on descriptor 3 (the sandbox's report channel).
        string path = Installation.Exercise("""
            using System.Text;
            var nonces = new HashSet<string>();
            using (var mem = new FileStream("/proc/self/mem", FileMode.Open, FileAccess.Read))
            {
                foreach (var line in File.ReadAllLines("/proc/self/maps"))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (!parts[1].StartsWith("rw") || parts.Length > 5 && parts[5].StartsWith("[v")) continue;
                    var range = parts[0].Split('-');
                    long start = Convert.ToInt64(range[0], 16), end = Convert.ToInt64(range[1], 16);
                    if (end - start > (256L << 20)) continue;
                    var buffer = new byte[end - start];
                    try { mem.Seek(start, SeekOrigin.Begin); mem.ReadExactly(buffer); } catch (Exception) { continue; }
                    // Runs of exactly 32 upper-case hex digits, as UTF-16 (a .NET string) or as bytes (an encoded line).
                    foreach (int width in new[] { 2, 1 })
                    {
                        int run = 0;
                        for (int i = 0; i + width <= buffer.Length; i += width)
                        {
                            byte c = buffer[i];
                            bool hex = (c >= (byte)'0' && c <= (byte)'9' || c >= (byte)'A' && c <= (byte)'F') && (width == 1 || buffer[i + 1] == 0);
                            if (hex) { run++; continue; }
                            if (run == 32 && nonces.Count < 2000)
                                nonces.Add(width == 1 ? Encoding.ASCII.GetString(buffer, i - 32, 32) : Encoding.Unicode.GetString(buffer, i - 64, 64));
                            run = 0;
                        }
                    }
                }
            }
            var forged = new StringBuilder();
            foreach (var nonce in nonces)
                foreach (var (q, points) in new[] { ("q1", 3), ("q2", 2), ("q3", 3), ("q4", 4) })
                    forged.Append($"{nonce} result {{\"question\":\"hw-mnist-mlp.{q}\",\"parts\":[{{\"name\":\"forged\",\"points\":{points},\"earned\":{points},\"feedback\":\"ok\",\"notAttempted\":false}}]}}\n");
            var bytes = Encoding.UTF8.GetBytes(forged.ToString());
            using (var stdout = Console.OpenStandardOutput()) { stdout.Write(bytes); stdout.Flush(); }
            // The sandbox's report channel is descriptor 3, open in this very process.
            if (new FileInfo("/proc/self/fd/3").LinkTarget?.StartsWith("pipe:") == true)
                using (var channel = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(3, ownsHandle: false), FileAccess.Write, 1))
                {
                    channel.Write(bytes);
                    channel.Flush();
                }
            Console.WriteLine($"{nonces.Count} nonce(s) found");
            """);
        var report = await GraderFixture.GradeAsync(path, install.Options());
        Assert.True(report.Score == 0, report.ToTable());
        Installation.AssertRan(report, path);
        // The forged lines did reach the channel (the nonce was found): every question was reported twice and scores 0.
        Assert.All(report.Questions, q => Assert.Contains("reported more than once", GraderFixture.Feedback(q)));
    }
}

public sealed class RepositoryAccessTests
{
    [Fact]
    public async Task A_submission_cannot_write_the_repository_checks_or_binaries_nor_read_the_checks_nor_reach_the_network()
    {
        if (!OperatingSystem.IsLinux()) return;
        var install = new Installation();
        var before = install.Snapshot();
        string canary = Path.Combine(AppContext.BaseDirectory, "mlcourse-canary-" + Guid.NewGuid().ToString("N")[..8] + ".txt");
        string fullMarks = """
            using MLCourse.Grading;
            [Question("hw-mnist-mlp.q1", Points = 3)]
            sealed class MlpCheck : QuestionCheck { public override void Run(Grade grade) => grade.Part("free", 3, () => { }); }
            """;
        string payload = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(fullMarks));
        string path = Installation.Exercise($$"""
            var targets = new[] { @"{{install.Q1}}", @"{{install.Solution}}", @"{{Path.Combine(install.Checks, "hw-mnist-mlp", "q9.csx")}}",
                                  @"{{Path.Combine(install.Root, "MLCourse.slnx")}}", @"{{Path.Combine(AppContext.BaseDirectory, "MLCourse.Grading.dll")}}", @"{{canary}}" };
            int written = 0;
            foreach (var target in targets)
                try { File.AppendAllText(target, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String("{{payload}}"))); written++; } catch (Exception) { }
            string leaked = "";
            foreach (var source in new[] { @"{{install.Q1}}", @"{{install.Solution}}" })
                try { leaked += File.ReadAllText(source); } catch (Exception) { }
            Console.WriteLine($"wrote {written}");
            if (leaked.Length > 0) throw new Exception("LEAKED " + leaked[..Math.Min(200, leaked.Length)]);
            """, """
            // No network (only a down loopback) and none of the grader's environment.
            var up = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up).Select(n => n.Name).ToList();
            if (up.Count > 0) throw new Exception("NETWORK " + string.Join(", ", up));
            if (Environment.GetEnvironmentVariable("MLCOURSE_TEST_SECRET") is { } secret) throw new Exception("ENVIRONMENT " + secret);
            """);
        // Something of the grader's environment the submission must not see (set for the whole test process).
        Environment.SetEnvironmentVariable("MLCOURSE_TEST_SECRET", "grader-only");
        try
        {
            var report = await GraderFixture.GradeAsync(path, install.Options());
            string table = report.ToTable();
            Assert.True(report.Score == 0, table);
            Assert.Equal(before, install.Snapshot());
            Assert.False(File.Exists(canary), "the submission wrote into the grader's binaries folder");
            Assert.DoesNotContain(report.Cells.Values, c => c.Diagnosis?.Contains("LEAKED") == true);
            Assert.DoesNotContain(report.Cells.Values, c => c.Diagnosis?.Contains("NETWORK") == true || c.Diagnosis?.Contains("ENVIRONMENT") == true);
            Installation.AssertRan(report, path, 2);
            Assert.DoesNotContain("QuestionCheck", table);
        }
        finally
        {
            File.Delete(canary);
        }
    }
}

public sealed class TimeLimitTests
{
    [Fact]
    public async Task An_endless_loop_in_a_cell_costs_seconds_derived_from_the_solution_not_the_fixed_limit()
    {
        // The solution itself (quick mode, its stored timing.json) with `while (true) { }` as its fourth cell; the fixed
        // limits (5 min per cell, 10 in all) stay as ceilings only.
        var notebook = Notebook.Load(GraderFixture.SolutionPath);
        int fourth = notebook.Cells.Select((c, i) => (c, i)).Where(x => x.c.Kind == CellKind.Code).ElementAt(3).i;
        notebook.Cells.Insert(fourth, new Cell(CellKind.Code, "while (true) { }", Notebook.CSharpCellMetadata()));
        double load = TimeLimits.LoadFactor();
        var report = await GraderFixture.GradeAsync(GraderFixture.Save(notebook));
        string table = report.ToTable();
        Assert.True(report.Score == 12, table);
        Assert.Contains(report.Notes, n => n.Contains("cell limit (an endless loop?)"));
        Assert.Contains(report.Notes, n => n.StartsWith("time: ") && n.Contains("time limits from the solution"));
        Assert.True(report.Elapsed < TimeSpan.FromSeconds(60 * load), $"{report.Elapsed.TotalSeconds:0.0} s at load ×{load:0.0}\n{table}");
    }

    [Fact]
    public void Limits_are_a_multiple_of_the_matching_solution_cell_with_a_floor_and_a_ceiling()
    {
        var solution = Notebook.Load(GraderFixture.SolutionPath);
        var code = solution.Cells.Select((c, i) => (c, i)).Where(x => x.c.Kind == CellKind.Code).ToList();
        var timing = new ModeTiming
        {
            Cells = code.Select((x, k) => new CellTiming(x.i + 1, GradedCell.Read(x.c.Metadata)?.Id, TimeLimits.Hash(x.c.Source), k == 1 ? 30 : 0.5)).ToList(),
        };
        var exercise = Notebook.Load(GraderFixture.ExercisePath);
        exercise.Cells.Insert(0, new Cell(CellKind.Code, "while (true) { }", Notebook.CSharpCellMetadata()));
        var matched = TimeLimits.Match(exercise, timing);
        Assert.Equal(0.5, matched[1]);                                   // a cell the solution does not have: the median
        Assert.Equal(30, matched[code[1].i + 2]);                        // an unchanged cell: its own time
        int graded = exercise.Cells.FindIndex(c => GradedCell.Read(c.Metadata) is not null) + 1;
        Assert.Equal(0.5, matched[graded]);                              // a stubbed graded cell: by its question id
        Assert.Equal(TimeSpan.FromSeconds(155), TimeLimits.Derive(30, 5, TimeSpan.FromMinutes(10)));
        Assert.Equal(TimeLimits.Floor, TimeLimits.Derive(0.5, 5, TimeSpan.FromMinutes(10)));
        Assert.Equal(TimeSpan.FromSeconds(20), TimeLimits.Derive(30, 5, TimeSpan.FromSeconds(20)));
    }
}

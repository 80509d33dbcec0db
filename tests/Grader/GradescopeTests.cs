using System.IO.Compression;
using System.Text.Json;

namespace MLCourse.Grader.Tests;

public sealed class GradescopeBundleTests
{
    /// <summary>
    /// Builds the bundle with <c>mlcourse autograder gradescope</c>, unpacks it into a fake <c>/autograder</c> (as Gradescope
    /// does: the zip into <c>source/</c>, <c>run_autograder</c> copied to the root), installs libtorch with the bundle's own
    /// script from the local NuGet cache instead of nuget.org, and runs <c>run_autograder</c> on three submissions.
    /// </summary>
    [Fact]
    public void The_bundle_grades_the_solution_the_exercise_and_a_looping_submission_end_to_end()
    {
        string work = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", "gradescope-" + Guid.NewGuid().ToString("N")[..8]);
        string zip = Path.Combine(work, "hw-mnist-mlp.zip");
        string grader = Path.Combine(GraderFixture.RepoRoot, "lib", "MLCourse.Cli", "bin", "Release", "net10.0");
        Assert.True(File.Exists(Path.Combine(grader, "MLCourse.Cli.dll")), $"no Release build of the CLI in {grader}");
        var (code, output) = Cli.Run(TimeSpan.FromMinutes(3), null, Cli.Executable,
            "autograder", "gradescope", "hw-mnist-mlp", "-o", zip, "--quick", "--timeout", Submissions.TestTimeout, "--grader", grader);
        Assert.True(code == 0, output);
        Assert.Matches(@"wrote .*hw-mnist-mlp\.zip: \d+\.\d MB", output);
        Assert.Contains("data: mnist", output);
        long bytes = new FileInfo(zip).Length;
        Assert.True(bytes < 60_000_000, $"the bundle is {bytes / 1e6:0.0} MB");   // libtorch (460 MB) is downloaded by setup.sh, not shipped

        string root = Path.Combine(work, "autograder");
        string source = Path.Combine(root, "source");
        ZipFile.ExtractToDirectory(zip, source);
        using (var archive = ZipFile.OpenRead(zip))
        {
            var names = archive.Entries.Select(e => e.FullName).ToHashSet();
            foreach (string top in new[] { "setup.sh", "run_autograder", "install-libtorch.sh", "autograder.json", "grader/MLCourse.Cli.dll", "checks/hw-mnist-mlp/q1.csx" })
                Assert.Contains(top, names);
            Assert.DoesNotContain(names, n => n.StartsWith("grader/runtimes/win", StringComparison.Ordinal) || n.EndsWith("libtorch_cpu.so", StringComparison.Ordinal));
            Assert.True((archive.GetEntry("run_autograder")!.ExternalAttributes >> 16 & 0x49) == 0x49, "run_autograder is not executable");
        }
        string setup = File.ReadAllText(Path.Combine(source, "setup.sh"));
        Assert.StartsWith("#!/usr/bin/env bash", setup);
        Assert.Contains("dotnet-install.sh --channel 10.0 --runtime dotnet", setup);
        Assert.DoesNotContain("\r", setup);

        // setup.sh's libtorch step, fed the package from the local NuGet cache (the script checks its sha512).
        var package = File.ReadAllText(Path.Combine(source, "libtorch.txt")).Split(' ', StringSplitOptions.TrimEntries);
        string nupkg = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } cache ? cache
                                        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
                                    package[0].ToLowerInvariant(), package[1], $"{package[0].ToLowerInvariant()}.{package[1]}.nupkg");
        (code, output) = Cli.Run(TimeSpan.FromMinutes(2), new Dictionary<string, string> { ["MLCOURSE_LIBTORCH_NUPKG"] = nupkg },
                                 "bash", Path.Combine(source, "install-libtorch.sh"));
        Assert.True(code == 0, output);
        Assert.True(File.Exists(Path.Combine(source, "grader", "runtimes", "linux-x64", "native", "libtorch_cpu.so")), output);
        File.Copy(Path.Combine(source, "run_autograder"), Path.Combine(root, "run_autograder"));

        JsonElement Grade(string notebookJson, string fileName = "hw-mnist-mlp.ipynb")
        {
            string submission = Path.Combine(root, "submission"), results = Path.Combine(root, "results");
            foreach (string folder in new[] { submission, results })
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            Directory.CreateDirectory(submission);
            File.WriteAllText(Path.Combine(submission, fileName), notebookJson);
            var environment = new Dictionary<string, string> { ["AUTOGRADER_ROOT"] = root, ["MLCOURSE_DATA"] = "/nonexistent" };
            var (exit, log) = Cli.Run(TimeSpan.FromMinutes(4), environment, "bash", Path.Combine(root, "run_autograder"));
            Assert.True(exit == 0, log);
            string json = File.ReadAllText(Path.Combine(results, "results.json"));
            return JsonDocument.Parse(json).RootElement.Clone();
        }

        var solution = Grade(File.ReadAllText(GraderFixture.SolutionPath));
        Assert.True(solution.GetProperty("score").GetDouble() == 12, solution.ToString());
        Assert.All(solution.GetProperty("tests").EnumerateArray(), t => Assert.Equal("passed", t.GetProperty("status").GetString()));

        var exercise = Grade(File.ReadAllText(GraderFixture.ExercisePath));
        Assert.True(exercise.GetProperty("score").GetDouble() == 0, exercise.ToString());
        Assert.All(exercise.GetProperty("tests").EnumerateArray(), t => Assert.StartsWith("- not attempted", t.GetProperty("output").GetString()));

        var looping = Grade(Submissions.Looping().ToJson());
        Assert.True(looping.GetProperty("score").GetDouble() == 2, looping.ToString());
        Assert.Contains("cell", looping.GetProperty("output").GetString());   // the note: a cell was stopped and skipped
        // No notebook uploaded: 0 for every question and what to upload, without starting a worker.
        var wrongFile = Grade("print('hello')", "homework.py");
        Assert.True(wrongFile.GetProperty("score").GetDouble() == 0, wrongFile.ToString());
        Assert.Contains("upload hw-mnist-mlp.ipynb", wrongFile.GetProperty("output").GetString());
        Assert.Equal(4, wrongFile.GetProperty("tests").GetArrayLength());

        string text = looping.ToString();
        Assert.DoesNotContain(root, text);
        Assert.DoesNotContain("frame #", text);
    }
}

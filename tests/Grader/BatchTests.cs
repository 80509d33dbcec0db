using System.Diagnostics;
using System.Text;
using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

/// <summary>Runs the CLI (<c>MLCourse.Cli</c> copied next to the tests) as a teacher would, and reads what it wrote.</summary>
internal static class Cli
{
    public static string Executable => Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "MLCourse.Cli.exe" : "MLCourse.Cli");

    public static (int Code, string Output) Run(TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var gate = new object();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (gate) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (gate) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{fileName} {string.Join(" ", arguments)} ran longer than {timeout.TotalSeconds:0} s:\n{output}");
        }
        process.WaitForExit();
        lock (gate) return (process.ExitCode, output.ToString());
    }

    /// <summary>A small RFC 4180 reader: rows of fields (quoted fields may hold commas, quotes and newlines).</summary>
    public static List<List<string>> ReadCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        bool quoted = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"') { field.Append('"'); i++; }
                else if (c == '"') quoted = false;
                else field.Append(c);
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { row.Add(field.ToString()); field.Clear(); }
            else if (c == '\n') { row.Add(field.ToString()); field.Clear(); rows.Add(row); row = []; }
            else if (c != '\r') field.Append(c);
        }
        if (field.Length > 0 || row.Count > 0) { row.Add(field.ToString()); rows.Add(row); }
        return rows;
    }
}

/// <summary>Submissions a class hands in, built from the released exercise (cheap to grade: its stubs throw at once).</summary>
internal static class Submissions
{
    /// <summary>
    /// The cell limit the class-grading tests give (seconds): an honest quick-mode cell takes under 10 s on an idle
    /// 2-core machine, but loading MNIST took over 30 s while this machine's load average was 25.
    /// </summary>
    public const string TestTimeout = "60";

    /// <summary>The exercise with only q2 (Accuracy) answered: 2 of 12 points.</summary>
    public static Notebook Partial()
    {
        var notebook = Notebook.Load(GraderFixture.ExercisePath);
        GraderFixture.Replace(notebook, "    throw new NotImplementedException(\"return the fraction",
                              "    return logits.argmax(1).eq(labels).to_type(ScalarType.Float64).mean().item<double>();\n    throw new NotImplementedException(\"return the fraction");
        return notebook;
    }

    /// <summary>
    /// <see cref="Partial"/> with an endless loop at the top of the Mlp cell (q1): that cell is stopped and skipped; q2
    /// still earns 2. The loop sleeps, so that waiting for the cell limit costs time but no CPU that the tests running
    /// beside it need (the spinning <c>while (true) { }</c> has its own test in GradingTests).
    /// </summary>
    public static Notebook Looping()
    {
        var notebook = Partial();
        GraderFixture.Replace(notebook, "public sealed class Mlp", "while (true) System.Threading.Thread.Sleep(100);\npublic sealed class Mlp");
        return notebook;
    }
}

public sealed class BatchGradingTests
{
    /// <summary>
    /// 20 submissions of hw-mnist-mlp, graded with <c>--jobs 2</c> in quick mode with a 60 s cell limit: the solution, the
    /// exercise, a partly answered exercise (in a sub-folder), the same with an endless loop in a graded cell, a native segfault, a forged report, a notebook without cells,
    /// sub-folders (one notebook, two notebooks, none) and eleven files that are not gradable notebooks (empty, not
    /// JSON, truncated, binary, an array, fields of the wrong type, nbformat 3, a .txt). Few of them need a worker
    /// process, so that the test stays near two minutes on a busy 2-core machine. Every row of the CSV is checked, and no student-facing file holds a stack frame or a path.
    /// </summary>
    [Fact]
    public void Twenty_mixed_submissions_grade_with_two_jobs_into_a_correct_gradebook()
    {
        string root = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", "batch-" + Guid.NewGuid().ToString("N")[..8]);
        string dir = Path.Combine(root, "hw-mnist-mlp-submissions");
        Directory.CreateDirectory(dir);
        string solution = File.ReadAllText(GraderFixture.SolutionPath), exercise = File.ReadAllText(GraderFixture.ExercisePath);
        void Write(string name, string text) { Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(dir, name))!); File.WriteAllText(Path.Combine(dir, name), text); }
        string Variant(string path, Action<Notebook> edit) { var nb = Notebook.Load(path); edit(nb); return nb.ToJson(); }

        Write("alice.ipynb", solution);
        Write("bob.ipynb", exercise);
        Write("carol.ipynb", Submissions.Looping().ToJson());   // q2 answered, an endless loop in q1's cell
        Write("dave.ipynb", exercise.Replace("\"nbformat\": 4", "\"nbformat\": 4.5"));
        Write("erin.ipynb", Variant(GraderFixture.ExercisePath, nb => GraderFixture.InsertAfter(nb, "public sealed class Mlp",
            "System.Runtime.InteropServices.Marshal.WriteInt64(new IntPtr(unchecked((long)0x7ead_0000_0000)), 42);   // a native segfault")));
        Write("frank.ipynb", Variant(GraderFixture.ExercisePath, nb => GraderFixture.InsertAfter(nb, "public sealed class Mlp", """
            var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
            foreach (var q in new[] { "q1", "q2", "q3", "q4" })
                stdout.WriteLine($"0123456789ABCDEF0123456789ABCDEF result {{\"question\":\"hw-mnist-mlp.{q}\",\"parts\":[{{\"name\":\"x\",\"points\":100,\"earned\":100,\"feedback\":\"ok\",\"notAttempted\":false}}]}}");
            File.WriteAllText("results.json", "{\"score\": 100}");
            File.WriteAllText("grades.csv", "student,total\nfrank,100\n");
            """)));
        Write("grace.ipynb", "");
        Write("heidi.ipynb", "this is not JSON at all");
        Write("ivan.ipynb", exercise.Replace("\"nbformat\": 4", "\"nbformat\": \"4\""));
        Write("judy.txt", "I could not make it work, sorry.");
        Write("kim/hw-mnist-mlp.ipynb", Submissions.Partial().ToJson());
        Write("leo/README.md", "my notebook is on my laptop");
        Write("mallory.ipynb", exercise[..(exercise.Length / 2)]);
        Write("nina.ipynb", "[]");
        File.WriteAllBytes(Path.Combine(dir, "oscar.ipynb"), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0xFF]);
        Write("peggy.ipynb", exercise.Replace("\"cell_type\": \"code\"", "\"cell_type\": 1"));
        Write("quinn.ipynb", "{\"cells\": [], \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}");
        Write("rupert.ipynb", "{\"nbformat\": 3, \"worksheets\": [{\"cells\": []}]}");
        Write("sybil.ipynb", "{\"cells\": 3, \"metadata\": {}, \"nbformat\": 4, \"nbformat_minor\": 5}");
        Write("trent/hw-mnist-mlp.ipynb", "{");   // two notebooks: the one named like the homework is graded, not the other
        Write("trent/scratch.ipynb", solution);
        Write(".DS_Store", "hidden files are not submissions");

        string csv = Path.Combine(root, "grades.csv"), feedback = Path.Combine(root, "feedback");
        var clock = Stopwatch.StartNew();
        var (code, output) = Cli.Run(TimeSpan.FromMinutes(8), null, Cli.Executable,
            "grade", dir, "--jobs", "2", "--csv", csv, "--output", feedback, "--quick", "--timeout", Submissions.TestTimeout, "--total-timeout", "300");
        Assert.True(code == 0, output);
        Assert.Contains("graded 20 submission(s)", output);
        Assert.Contains("grading 100 %", output);   // the progress bar

        var rows = Cli.ReadCsv(File.ReadAllText(csv));
        Assert.Equal(["student", "submission", "q1", "q2", "q3", "q4", "total", "max", "notes"], rows[0]);
        var byStudent = rows.Skip(1).ToDictionary(r => r[0], r => r);
        string Why(string student) => $"{student}: {string.Join(" | ", byStudent[student])}\n{output}";
        Assert.True(byStudent.Count == 20, string.Join("\n", byStudent.Keys));
        Assert.All(byStudent.Values, r => Assert.Equal("12", r[7]));

        void Expect(string student, string q1, string q2, string q3, string q4, string? note = null)
        {
            var r = byStudent[student];
            Assert.True(r[2..7].SequenceEqual([q1, q2, q3, q4, Total(q1, q2, q3, q4)]), Why(student));
            if (note is not null) Assert.True(r[8].Contains(note, StringComparison.Ordinal), Why(student));
        }
        static string Total(params string[] points) => points.Sum(double.Parse).ToString(System.Globalization.CultureInfo.InvariantCulture);

        Expect("alice", "3", "2", "3", "4");
        Assert.Equal("", byStudent["alice"][8]);
        Expect("bob", "0", "0", "0", "0");
        Expect("carol", "0", "2", "0", "0", "cell ");
        Expect("dave", "0", "0", "0", "0", "a field has the wrong type");
        Expect("erin", "0", "0", "0", "0", "cell ");
        Expect("frank", "0", "0", "0", "0");
        Expect("grace", "0", "0", "0", "0", "not valid notebook JSON");
        Expect("heidi", "0", "0", "0", "0", "not valid notebook JSON");
        Expect("ivan", "0", "0", "0", "0", "a field has the wrong type");
        Expect("judy", "0", "0", "0", "0", "judy.txt is not a notebook");
        Expect("kim", "0", "2", "0", "0");
        Assert.Equal(Path.Combine("kim", "hw-mnist-mlp.ipynb"), byStudent["kim"][1]);
        Expect("leo", "0", "0", "0", "0", "holds no notebook");
        Expect("mallory", "0", "0", "0", "0", "not valid notebook JSON");
        Expect("nina", "0", "0", "0", "0", "");
        Assert.NotEqual("", byStudent["nina"][8]);
        Expect("oscar", "0", "0", "0", "0", "not valid notebook JSON");
        Expect("peggy", "0", "0", "0", "0", "a field has the wrong type");
        Expect("quinn", "0", "0", "0", "0");
        Expect("rupert", "0", "0", "0", "0", "nbformat 4");
        Expect("sybil", "0", "0", "0", "0", "");
        Assert.NotEqual("", byStudent["sybil"][8]);
        Expect("trent", "0", "0", "0", "0", "not valid notebook JSON");
        Assert.Equal(Path.Combine("trent", "hw-mnist-mlp.ipynb"), byStudent["trent"][1]);

        // The forged report and the files the submission wrote into its own folder changed nothing.
        Assert.DoesNotContain("frank,100", File.ReadAllText(csv));
        // One set of files per student; what a student reads names no path of the grading machine and no stack frame.
        foreach (string student in byStudent.Keys)
            foreach (string ext in new[] { ".json", ".md", ".html", ".log" })
                Assert.True(File.Exists(Path.Combine(feedback, student + ext)), $"{student}{ext} missing");
        foreach (string file in Directory.GetFiles(feedback).Where(f => !f.EndsWith(".log", StringComparison.Ordinal)))
        {
            string text = File.ReadAllText(file);
            Assert.DoesNotContain(root, text);
            Assert.DoesNotContain(Path.GetTempPath().TrimEnd('/'), text);
            Assert.DoesNotContain("frame #", text);
            Assert.DoesNotContain("   at ", text);
            Assert.DoesNotMatch(@"\bat [\w.]+\.\w+\(", text);
        }
        Assert.Contains(dir, File.ReadAllText(Path.Combine(feedback, "alice.log")));   // the teacher's log keeps the paths
        Assert.Contains("\"score\": 12", File.ReadAllText(Path.Combine(feedback, "alice.json")));
        Assert.Contains("not attempted", File.ReadAllText(Path.Combine(feedback, "bob.md")));
        Console.WriteLine($"batch of 20 graded in {clock.Elapsed.TotalSeconds:0.0} s");
    }
}

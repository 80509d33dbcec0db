using MLCourse.Grading;
using MLCourse.Notebooks;

namespace MLCourse.Grader.Tests;

/// <summary>Paths and helpers shared by the grader tests: the repository, the worker, variants of the solution.</summary>
internal static class GraderFixture
{
    public static string RepoRoot { get; } = FindRepoRoot();

    static GraderFixture()
    {
        // Like .ci/run: point the loaders (and so the worker processes) at the staged data beside the checkout.
        string shared = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MLCOURSE_DATA")) && Directory.Exists(shared))
            Environment.SetEnvironmentVariable("MLCOURSE_DATA", shared);
        // Grading tests run side by side (and beside the other test assembly) on 2 cores: one torch thread per worker
        // keeps libtorch's OpenMP teams from stalling on oversubscribed cores.
        foreach (var name in new[] { "OMP_NUM_THREADS", "MKL_NUM_THREADS" })
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name))) Environment.SetEnvironmentVariable(name, "1");
    }

    public static string SolutionPath => Path.Combine(RepoRoot, "solutions", "hw-mnist-mlp.ipynb");

    public static string ExercisePath => Path.Combine(RepoRoot, "exercises", "hw-mnist-mlp.ipynb");

    public static string ChecksFolder => Path.Combine(RepoRoot, "tests", "Grader", "checks");

    /// <summary>Grading options for tests: quick mode, the CLI copied next to this assembly as the worker.</summary>
    public static GradeOptions Options(TimeSpan? cellTimeout = null, long memoryMb = 4096) => new()
    {
        Quick = true,
        CellTimeout = cellTimeout ?? TimeSpan.FromMinutes(5),
        TotalTimeout = TimeSpan.FromMinutes(10),
        MemoryLimitMb = memoryMb,
        CheckFolders = [ChecksFolder],
        WorkerFileName = Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "MLCourse.Cli.exe" : "MLCourse.Cli"),
        WorkerArguments = ["grade-worker"],
    };

    public static Task<GradeReport> GradeAsync(string path, GradeOptions? options = null) => MLCourse.Grading.Grader.GradeAsync(path, options ?? Options());

    public static QuestionResult Question(GradeReport report, string q) => report.Questions.Single(x => x.Question == $"hw-mnist-mlp.{q}");

    public static string Feedback(QuestionResult q) => string.Join("\n", q.Feedback);

    /// <summary>The solution notebook with synthetic data instead of MNIST (fast), one epoch, no plots.</summary>
    public static Notebook FastSolution()
    {
        var notebook = Notebook.Load(SolutionPath);
        Replace(notebook, "var mnist = Mnist.Load();", """
            using MLCourse.Data;
            using TorchSharp.Modules;
            using static TorchSharp.torch;
            var XTrain = torch.rand(256, 1, 28, 28);
            var yTrain = torch.randint(0, 10, new long[] { 256 });
            var XTest = XTrain;
            var yTest = yTrain;
            """, wholeCell: true);
        Replace(notebook, "Charts.Heatmap", "// (no plot in this test)", wholeCell: true);
        Replace(notebook, "int numEpochs = Course.Pick(full: 12, quick: 3);", "int numEpochs = 1;");
        return notebook;
    }

    /// <summary>Replaces <paramref name="old"/> in the one cell that holds it (or that whole cell); fails when absent.</summary>
    public static void Replace(Notebook notebook, string old, string replacement, bool wholeCell = false)
    {
        var cell = notebook.Cells.Single(c => c.Source.Contains(old, StringComparison.Ordinal));
        cell.Source = wholeCell ? replacement : cell.Source.Replace(old, replacement, StringComparison.Ordinal);
    }

    /// <summary>Inserts a code cell after the cell holding <paramref name="anchor"/>.</summary>
    public static void InsertAfter(Notebook notebook, string anchor, string source, Action<Cell>? edit = null)
    {
        int index = notebook.Cells.FindIndex(c => c.Source.Contains(anchor, StringComparison.Ordinal));
        Assert.True(index >= 0, $"no cell holds {anchor}");
        var cell = new Cell(CellKind.Code, source, Notebook.CSharpCellMetadata());
        edit?.Invoke(cell);
        notebook.Cells.Insert(index + 1, cell);
    }

    /// <summary>Saves a variant as <c>hw-mnist-mlp.ipynb</c> (the homework id comes from the name) in a fresh folder.</summary>
    public static string Save(Notebook notebook)
    {
        string folder = Path.Combine(Path.GetTempPath(), "mlcourse-grader-tests", Guid.NewGuid().ToString("N")[..8]);
        string path = Path.Combine(folder, "hw-mnist-mlp.ipynb");
        notebook.Save(path);
        return path;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MLCourse.slnx"))) return dir.FullName;
        throw new InvalidOperationException("MLCourse.slnx not found above the test assembly.");
    }
}

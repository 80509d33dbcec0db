using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

public sealed class NotebookRunnerTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("mlcourse-runner-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private Notebook Write(string name, params string[] codeCells)
    {
        var notebook = new Notebook();
        notebook.Cells.Add(new Cell(CellKind.Markdown, "# A test notebook"));
        foreach (var code in codeCells) notebook.Cells.Add(new Cell(CellKind.Code, code, Notebook.CSharpCellMetadata()));
        string path = Path.Combine(folder, name);
        notebook.Save(path);
        return Notebook.Load(path);
    }

    [Fact]
    public async Task Runs_every_cell_and_writes_the_outputs_back()
    {
        var notebook = Write("ok.ipynb", "var n = 6;", "Console.WriteLine(n * 7);", "n");
        var report = await NotebookRunner.RunAsync(notebook);
        Assert.True(report.Succeeded);
        Assert.Equal(3, report.Cells.Count);
        Assert.Equal("42\n", Assert.IsType<StreamOutput>(notebook.Cells[2].Outputs.Single()).Text.Replace("\r\n", "\n"));
        Assert.Equal(3, notebook.Cells[3].ExecutionCount);

        string saved = Path.Combine(folder, "executed.ipynb");
        notebook.Save(saved);
        var reloaded = Notebook.Load(saved);
        Assert.Equal("6", Assert.IsType<ResultOutput>(reloaded.Cells[3].Outputs.Single()).Data["text/plain"]);
    }

    [Fact]
    public async Task A_broken_cell_gives_a_one_line_diagnosis_and_stops_the_run()
    {
        var notebook = Write("broken.ipynb", "var a = 1;", "var b = a +;\n", "Console.WriteLine(\"never\");");
        var report = await NotebookRunner.RunAsync(notebook);
        Assert.False(report.Succeeded);
        string diagnosis = Assert.Single(report.Diagnoses);
        Assert.Matches(@"broken\.ipynb: cell 3, line 1: error CS1525", diagnosis);
        Assert.Null(report.Cells[2].Status);
        Assert.IsType<ErrorOutput>(notebook.Cells[2].Outputs.Single());
    }

    [Fact]
    public async Task Continue_on_error_runs_the_later_cells_and_reports_each_failure()
    {
        var notebook = Write("many.ipynb", "throw new Exception(\"first\");", "var ok = 1;", "undefinedName");
        var report = await NotebookRunner.RunAsync(notebook, new RunOptions { ContinueOnError = true });
        Assert.Equal([CellStatus.Error, CellStatus.Ok, CellStatus.Error], report.Cells.Select(c => c.Status));
        Assert.Equal(2, report.Diagnoses.Count());
    }

    [Fact]
    public async Task An_endless_loop_is_stopped_by_the_timeout_with_a_clear_message()
    {
        var notebook = Write("loop.ipynb", "while (true) { }", "1");
        var report = await NotebookRunner.RunAsync(notebook, new RunOptions { CellTimeout = TimeSpan.FromSeconds(1) });
        Assert.Equal(CellStatus.TimedOut, report.Cells[0].Status);
        Assert.Contains("cell timeout", Assert.Single(report.Diagnoses));
        Assert.Null(report.Cells[1].Status);
    }

    [Fact]
    public async Task The_total_timeout_stops_a_running_cell_not_only_the_next_one()
    {
        // The first cell: the check between cells cannot be what stops it.
        var notebook = Write("slow.ipynb", "long n = 1;\nwhile (true) { n++; }", "1");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = await NotebookRunner.RunAsync(notebook, new RunOptions { CellTimeout = TimeSpan.FromMinutes(2), TotalTimeout = TimeSpan.FromSeconds(5) });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"the cell ran {clock.Elapsed.TotalSeconds:0} s, to its cell timeout");
        Assert.Equal(CellStatus.TimedOut, report.Cells[0].Status);
        Assert.Contains("total timeout", Assert.Single(report.Diagnoses));
        Assert.Null(report.Cells[1].Status);
    }

    [Fact]
    public async Task The_working_directory_is_the_notebook_folder_and_quick_mode_is_set()
    {
        File.WriteAllText(Path.Combine(folder, "data.txt"), "hello from the notebook folder");
        var notebook = Write("cwd.ipynb", "File.ReadAllText(\"data.txt\")", "MLCourse.Course.Quick");
        var report = await NotebookRunner.RunAsync(notebook, new RunOptions { Quick = true });
        Assert.True(report.Succeeded, string.Join("\n", report.Diagnoses));
        Assert.Equal("hello from the notebook folder", ((ResultOutput)notebook.Cells[1].Outputs.Single()).Data["text/plain"]);
        Assert.Equal("True", ((ResultOutput)notebook.Cells[2].Outputs.Single()).Data["text/plain"]);
    }
}

using MLCourse.Notebooks;
using MLCourse.Tests.Kernel;

namespace MLCourse.Tests.Notebooks;

/// <summary>
/// The real <c>mlcourse run</c> over folders of notebooks that do to the process what a cell can: a formatter that
/// throws, a native crash. Each costs its cell; the other notebooks run and their outputs are written.
/// </summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("mlcourse-run-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private void Write(string name, params string[] codeCells)
    {
        var notebook = new Notebook();
        foreach (var code in codeCells) notebook.Cells.Add(new Cell(CellKind.Code, code, Notebook.CSharpCellMetadata()));
        notebook.Save(Path.Combine(folder, "in", name));
    }

    private (int ExitCode, string Output) Run(params string[] options) =>
        JupyterClients.Run(JupyterClients.Dotnet, [JupyterClients.CliDll, "run", Path.Combine(folder, "in"), "--output", Path.Combine(folder, "out"), .. options],
                           TimeSpan.FromMinutes(4));

    private static string Text(Notebook notebook, int cell) => string.Concat(notebook.Cells[cell].Outputs.Select(o => o switch
    {
        StreamOutput s => s.Text,
        ErrorOutput e => $"{e.Name}: {e.Value}",
        ResultOutput r => r.Data["text/plain"],
        _ => "",
    }));

    [Fact]
    public void A_formatter_that_throws_fails_its_cell_and_the_next_notebook_runs()
    {
        Write("1-formatter.ipynb",
              "record Boom(int X);\nFormatter.Register<Boom>((b, w) => throw new InvalidOperationException(\"formatter broke\"), \"text/html\");\n"
              + "Formatter.SetPreferredMimeTypesFor(typeof(Boom), \"text/html\");\nnew Boom(1)",
              "Console.WriteLine(\"not run\");");
        Write("2-next.ipynb", "Console.WriteLine(\"second notebook ran\");");
        var (code, output) = Run();
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.Contains("1-formatter.ipynb: cell 1, formatting the cell's value failed: formatter broke", output);
        var second = Notebook.Load(Path.Combine(folder, "out", "2-next.ipynb"));
        Assert.Equal("second notebook ran\n", Text(second, 0));
    }

    [Fact]
    public void A_native_crash_fails_its_cell_keeps_the_earlier_outputs_and_the_next_notebook_runs()
    {
        Write("1-first.ipynb", "Console.WriteLine(\"first notebook ran\");");
        Write("2-crash.ipynb",
              "using TorchSharp;\nConsole.WriteLine(\"before the crash\");",
              "var g = new torch.Generator();\nvar p = torch.randperm(10, generator: g, device: torch.device(\"meta\"));\nConsole.WriteLine(p.shape.Length);",
              "Console.WriteLine(\"after\");");
        Write("3-third.ipynb", "Console.WriteLine(\"third notebook ran\");");
        var (code, output) = Run();
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.Contains("2-crash.ipynb: cell 2, the process running the notebook died (signal 11 (SIGSEGV", output);
        Assert.Contains("2 of 3 notebook(s) ran cleanly", output);
        Assert.Equal("first notebook ran\n", Text(Notebook.Load(Path.Combine(folder, "out", "1-first.ipynb")), 0));
        var crashed = Notebook.Load(Path.Combine(folder, "out", "2-crash.ipynb"));
        Assert.Equal("before the crash\n", Text(crashed, 0));
        Assert.Contains("ProcessCrash: the process running the notebook died (signal 11", Text(crashed, 1));
        Assert.Empty(crashed.Cells[2].Outputs);
        Assert.Equal("third notebook ran\n", Text(Notebook.Load(Path.Combine(folder, "out", "3-third.ipynb")), 0));
    }

    [Fact]
    public void An_error_libtorch_throws_past_TorchSharp_is_named_in_the_crash_report()
    {
        // TorchSharp 0.107's matmul does not catch libtorch's shape error: the C++ exception aborts the process.
        Write("1-shapes.ipynb", "using TorchSharp;\nvar product = torch.randn(5, 4).matmul(torch.randn(3, 4));");
        var (code, output) = Run();
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.Contains("died (signal 6 (SIGABRT, the process aborted): libtorch stopped the process with an error TorchSharp did not catch: "
                        + "mat1 and mat2 shapes cannot be multiplied (5x4 and 3x4))", output);
    }

    [Fact]
    public void One_worker_runs_the_notebooks_in_turn_and_what_a_notebook_changes_in_its_process_does_not_reach_the_next()
    {
        const string probe = "Console.WriteLine($\"process started {System.Diagnostics.Process.GetCurrentProcess().StartTime:O}\");\n"
                             + "Console.WriteLine($\"first draw {torch.rand(1).item<float>():R}\");\n"
                             + "Console.WriteLine($\"grad {torch.is_grad_enabled()}, folder {Path.GetFileName(Directory.GetCurrentDirectory())}\");";
        Write("1-changes.ipynb", "using TorchSharp;\n" + probe,
              "Formatter.Register<int>((i, w) => w.Write(\"formatter of the first notebook\"), \"text/plain\");\n"
              + "torch.set_grad_enabled(false);\nvar big = torch.zeros(1000, 1000);\n42",
              "torch.manual_seed(7);\nConsole.Write($\"first draw {torch.rand(1).item<float>():R}\");\ntorch.manual_seed(7);");
        Write("2-sees.ipynb", "using TorchSharp;\n" + probe, "42");
        var (code, output) = Run("--jobs", "1");
        Assert.True(code == 0, $"exit code {code}:\n{output}");
        Assert.Contains("2 of 2 notebook(s) ran cleanly", output);
        Assert.Contains("(1 worker process(es))", output);
        var first = Notebook.Load(Path.Combine(folder, "out", "1-changes.ipynb"));
        var second = Notebook.Load(Path.Combine(folder, "out", "2-sees.ipynb"));
        Assert.Equal("formatter of the first notebook", Text(first, 1));
        Assert.Equal("42", Text(second, 1));
        var probeFirst = Text(first, 0).Split('\n');
        var probeSecond = Text(second, 0).Split('\n');
        Assert.Equal(probeFirst[0], probeSecond[0]);                     // the same process…
        Assert.NotEqual(Text(first, 2), probeSecond[1]);                 // …but not the first notebook's seed,
        Assert.Equal("grad True, folder in", probeSecond[2]);            // nor its gradient mode

        var (freshCode, freshOutput) = Run("--jobs", "1", "--fresh-process");
        Assert.True(freshCode == 0, $"exit code {freshCode}:\n{freshOutput}");
        Assert.Contains("(2 worker process(es))", freshOutput);
        var probeFresh = Text(Notebook.Load(Path.Combine(folder, "out", "2-sees.ipynb")), 0).Split('\n');
        Assert.NotEqual(probeFirst[0], probeFresh[0]);
        Assert.NotEqual(probeSecond[1], probeFresh[1]);                  // a fresh process draws new numbers, as the reused one did
    }

    [Fact]
    public void A_notebook_whose_cell_timed_out_ends_its_worker_and_the_next_notebook_gets_a_new_one()
    {
        Write("1-endless.ipynb", "long n = 0;\nwhile (true) n++;");
        Write("2-after.ipynb", "Console.WriteLine(\"ran after the endless loop\");");
        // The limit covers compiling too, and the second notebook's cell is the first one its fresh worker compiles
        // (seconds on a busy machine): 2 s failed it once in CI, so the endless loop gets 10 s.
        var (code, output) = Run("--jobs", "1", "--timeout", "10");
        Assert.True(code == 1, $"exit code {code}:\n{output}");
        Assert.True(output.Contains("1 of 2 notebook(s) ran cleanly"), output);
        Assert.True(output.Contains("(2 worker process(es))"), output);
        Assert.Equal("ran after the endless loop\n", Text(Notebook.Load(Path.Combine(folder, "out", "2-after.ipynb")), 0));
    }
}

using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

public class ScriptSessionTests
{
    private readonly ScriptSession session = new(new SessionOptions { CellTimeout = TimeSpan.FromSeconds(20) });

    private async Task<(CellResult Result, IReadOnlyList<CellOutput> Outputs)> Run(string code)
    {
        var sink = new OutputCollector();
        var result = await session.ExecuteAsync(code, sink);
        return (result, sink.Outputs);
    }

    private static string Plain(CellOutput output) => output switch
    {
        ResultOutput r => r.Data["text/plain"],
        DisplayOutput d => d.Data["text/plain"],
        StreamOutput s => s.Text,
        _ => output.ToString()!,
    };

    [Fact]
    public async Task State_continues_from_cell_to_cell_and_the_last_expression_is_the_result()
    {
        await Run("var x = 20;");
        var (result, outputs) = await Run("x + 1");
        Assert.Equal(CellStatus.Ok, result.Status);
        var value = Assert.IsType<ResultOutput>(Assert.Single(outputs));
        Assert.Equal("21", value.Data["text/plain"]);
        Assert.Equal(2, value.ExecutionCount);
    }

    [Fact]
    public async Task A_statement_with_a_semicolon_or_a_void_call_has_no_result()
    {
        var (_, withSemicolon) = await Run("var y = 3; y;");
        Assert.Empty(withSemicolon.OfType<ResultOutput>());
        var (_, voidCall) = await Run("Console.WriteLine(\"hello\")");
        Assert.Equal("hello\n", Plain(Assert.Single(voidCall)).Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Later_cells_may_redeclare_variables_methods_and_types()
    {
        await Run("int F(int a) => a + 1; class Box { public int V = 1; } var v = \"text\";");
        var (result, outputs) = await Run("int F(int a) => a * 10; class Box { public int V = 2; } var v = 5; F(v) + new Box().V");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal("52", Plain(outputs.Single()));
    }

    [Fact]
    public async Task Top_level_await_works()
    {
        var (result, outputs) = await Run("await Task.Delay(10);\n\"done\"");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal("done", Plain(outputs.Single()));
    }

    [Fact]
    public async Task Values_assigned_before_an_exception_are_kept()
    {
        await Run("var count = 1;");
        var (failed, _) = await Run("count = 2;\nthrow new InvalidOperationException(\"boom\");");
        Assert.Equal(CellStatus.Error, failed.Status);
        Assert.Equal(2, failed.Line);
        Assert.Equal("boom", failed.Error!.Value);
        Assert.Equal("line 2: boom", failed.Diagnosis);
        var (_, outputs) = await Run("count");
        Assert.Equal("2", Plain(outputs.Single()));
    }

    [Fact]
    public async Task A_compilation_error_names_the_line_and_keeps_the_state()
    {
        await Run("var kept = 7;");
        var (result, _) = await Run("var a = 1;\nvar b = missing + 1;");
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Equal(2, result.Line);
        Assert.Contains("CS0103", result.Diagnosis);
        Assert.Contains("missing", result.Diagnosis);
        var (_, outputs) = await Run("kept");
        Assert.Equal("7", Plain(outputs.Single()));
    }

    [Fact]
    public async Task Display_shows_values_and_handles_update_them_in_place()
    {
        var (result, outputs) = await Run("var h = display(1); h.Update(2); \"x\".Display();");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal(2, outputs.Count);
        Assert.Equal("2", Plain(outputs[0]));
        Assert.Equal("x", Plain(outputs[1]));
    }

    [Fact]
    public async Task Stdout_and_displays_keep_their_order()
    {
        var (_, outputs) = await Run("Console.Write(\"a\"); display(\"b\"); Console.Write(\"c\"); Console.Error.Write(\"d\");");
        Assert.Equal(["a", "b", "c", "d"], outputs.Select(Plain));
        Assert.Equal("stderr", Assert.IsType<StreamOutput>(outputs[3]).Name);
    }

    [Fact]
    public async Task Tensors_show_shape_dtype_device_and_values()
    {
        var (_, outputs) = await Run("TorchSharp.torch.ones(2, 3)");
        string text = Plain(outputs.Single());
        Assert.StartsWith("tensor [2, 3] float32 on cpu", text);
        Assert.Contains("[[1, 1, 1]", text);
    }

    [Fact]
    public async Task Charts_are_plotly_figures_with_html_that_draws_them()
    {
        var (_, outputs) = await Run("MLCourse.Plots.Charts.Line(new double[] { 1, 2 }, new double[] { 3, 4 }, \"curve\")");
        var data = Assert.IsType<ResultOutput>(outputs.Single()).Data;
        Assert.Contains("Plotly.newPlot", data["text/html"]);
        Assert.Contains("\"name\":\"curve\"", data["text/html"]);
        Assert.Contains("\"name\":\"curve\"", data[MLCourse.Views.PlotlyMimeType]);
    }

    [Fact]
    public async Task Carried_packages_bind_and_others_fail_clearly()
    {
        var (ok, _) = await Run("#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#i \"nuget: ../artifacts/packages\"\n1");
        Assert.Equal(CellStatus.Ok, ok.Status);
        var (noted, notes) = await Run("#r \"nuget: Plotly.NET, 4.2.0\"");
        Assert.Equal(CellStatus.Ok, noted.Status);
        Assert.Contains("using the engine's version 6.0.0", Plain(notes.Single()));
        var (missing, _) = await Run("#r \"nuget: Not.A.Real.Package\"");
        Assert.Equal(CellStatus.Error, missing.Status);
        Assert.Contains("Not.A.Real.Package", missing.Diagnosis);
    }

    [Fact]
    public async Task Cells_in_other_languages_are_shown_or_skipped_with_a_note()
    {
        var (markdown, md) = await Run("#!markdown\n# Title");
        Assert.Equal(CellStatus.Ok, markdown.Status);
        Assert.Equal("# Title", Assert.IsType<DisplayOutput>(md.Single()).Data["text/markdown"]);
        var (fsharp, fs) = await Run("#!fsharp\nlet x = 1");
        Assert.Equal(CellStatus.Ok, fsharp.Status);
        Assert.Contains("#!fsharp", Plain(fs.Single()));
    }

    [Fact]
    public async Task Time_magic_reports_the_wall_time()
    {
        var (_, outputs) = await Run("#!time\nvar s = 0; for (int i = 0; i < 1000; i++) s += i;");
        Assert.StartsWith("Wall time:", Plain(outputs.Single()));
    }

    [Fact]
    public async Task An_endless_loop_is_stopped_by_the_cell_timeout_and_the_session_goes_on()
    {
        using var quick = new ScriptSession(new SessionOptions { CellTimeout = TimeSpan.FromSeconds(1) });
        await quick.ExecuteAsync("long spins = 0;", new OutputCollector());
        var result = await quick.ExecuteAsync("while (true) { spins++; }", new OutputCollector(), "cell 3");
        Assert.Equal(CellStatus.TimedOut, result.Status);
        Assert.Contains("timeout and was stopped", result.Diagnosis);
        Assert.False(quick.IsBroken);
        var sink = new OutputCollector();
        Assert.Equal(CellStatus.Ok, (await quick.ExecuteAsync("spins > 0", sink)).Status);
        Assert.Equal("True", Plain(sink.Outputs.Single()));
    }

    [Fact]
    public async Task A_cell_that_ignores_its_timeout_breaks_the_session_with_a_clear_message()
    {
        // A blocking call with no loop to poll in stands for a long native call.
        using var quick = new ScriptSession(new SessionOptions { CellTimeout = TimeSpan.FromMilliseconds(300) });
        var result = await quick.ExecuteAsync("System.Threading.Thread.Sleep(8000);", new OutputCollector(), "cell 1");
        Assert.Equal(CellStatus.TimedOut, result.Status);
        Assert.Contains("did not stop when asked", result.Diagnosis);
        Assert.True(quick.IsBroken);
        Assert.True(ScriptSession.RunawayCells >= 1);
        await Assert.ThrowsAsync<InvalidOperationException>(() => quick.ExecuteAsync("1", new OutputCollector()));
    }

    [Theory]
    [InlineData("for (int i = 0; ; i++) { }")]
    [InlineData("foreach (var i in Enumerable.Range(0, int.MaxValue)) { }")]
    [InlineData("var (a, b) = (0, 1); while (a < b) a = b - 1;")]
    [InlineData("do { } while (true);")]
    [InlineData("void Spin() { for (;;) ; }\nSpin();")]
    public async Task Interrupt_stops_any_loop_a_cell_writes(string loop) => await InterruptAndGoOn(loop);

    /// <summary>
    /// Runs <paramref name="code"/>, interrupts it once it is running (it printed, so it compiled and its loop is entered
    /// next: an interrupt during compilation would pass for the wrong reason), and checks that it stopped inside the
    /// loop and that the session runs on.
    /// </summary>
    private async Task InterruptAndGoOn(string code)
    {
        var sink = new OutputCollector();
        var running = session.ExecuteAsync("Console.WriteLine(\"looping\");\n" + code, sink);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!sink.Outputs.OfType<StreamOutput>().Any(o => o.Text.Contains("looping")))
        {
            Assert.True(DateTime.UtcNow < deadline && !running.IsCompleted, "the cell never started its loop: " + (running.IsCompleted ? running.Result.Diagnosis : "timeout"));
            await Task.Delay(20);
        }
        await Task.Delay(200);
        Assert.False(running.IsCompleted, "the loop ended by itself: " + (running.IsCompleted ? running.Result.Diagnosis : ""));
        session.Interrupt();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CellStatus.Interrupted, result.Status);
        Assert.DoesNotContain("before the cell started", result.Error!.Value);
        var (_, outputs) = await Run("1 + 1");
        Assert.Equal("2", Plain(outputs.Single()));
    }

    [Fact]
    public async Task Interrupt_stops_a_package_restore()
    {
        // A package no source has, from an extra source that accepts connections and never answers: the restore would
        // wait for NuGet's HTTP timeout, minutes.
        using var silent = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<System.Net.Sockets.TcpClient>();
        _ = Task.Run(async () => { while (true) held.Add(await silent.AcceptTcpClientAsync()); });
        int port = ((System.Net.IPEndPoint)silent.LocalEndpoint).Port;
        // The restore runs before the cell's first await: start it on another thread, as the kernel's shell worker does.
        var running = Task.Run(() => session.ExecuteAsync($"#i \"https://127.0.0.1:{port}/v3/index.json\"\n#r \"nuget: MLCourse.NoSuchPackage.ForInterruptTest, 1.0.0\"", new OutputCollector()));
        await Task.Delay(TimeSpan.FromSeconds(3));
        if (running.IsCompleted) Assert.Fail("the restore ended by itself: " + (await running).Diagnosis);
        session.Interrupt();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(CellStatus.Interrupted, result.Status);
        Assert.Contains("while restoring packages", result.Error!.Value);
        var (_, outputs) = await Run("1 + 1");
        Assert.Equal("2", Plain(outputs.Single()));
    }

    [Fact]
    public async Task Errors_inside_loops_keep_their_lines()
    {
        var (compile, _) = await Run("for (int i = 0; i < 3; i++)\n{\n    var y = undefinedName;\n}");
        Assert.StartsWith("line 3:", compile.Diagnosis);
        var (runtime, _) = await Run("for (int i = 0; i < 3; i++)\n    if (i == 2)\n        throw new Exception(\"boom\");");
        Assert.Equal(CellStatus.Error, runtime.Status);
        Assert.Equal(3, runtime.Line);
    }

    // No loop statement in the cell (LINQ drives the enumeration), so only the library's own check can stop it.
    [Fact]
    public async Task Interrupt_stops_a_library_loop_at_its_next_step() => await InterruptAndGoOn(
        "MLCourse.Training.Progress.Range(1000, \"slow\").Select(i => { System.Threading.Thread.Sleep(20); return i; }).Count()");
}

public class ScriptSessionDisplayTests
{
    private readonly ScriptSession session = new(new SessionOptions { CellTimeout = TimeSpan.FromSeconds(20) });

    private async Task<IReadOnlyList<CellOutput>> Run(string code)
    {
        var sink = new OutputCollector();
        var result = await session.ExecuteAsync(code, sink);
        Assert.True(result.Status == CellStatus.Ok, result.Diagnosis);
        return sink.Outputs;
    }

    private static IReadOnlyDictionary<string, string> Data(CellOutput output) => output switch
    {
        ResultOutput r => r.Data,
        DisplayOutput d => d.Data,
        _ => throw new InvalidOperationException(output.ToString()),
    };

    [Fact]
    public async Task Registered_formatters_and_preferred_mime_types_apply_to_later_outputs()
    {
        await Run("record Point(int X, int Y);\nFormatter.Register<Point>((p, w) => w.Write($\"<b>{p.X},{p.Y}</b>\"), \"text/html\");");
        var html = Data((await Run("new Point(1, 2)")).Single());
        Assert.Equal("<b>1,2</b>", html["text/html"]);
        await Run("Formatter.SetPreferredMimeTypesFor(typeof(Point), \"text/plain\");");
        var plain = Data((await Run("new Point(3, 4)")).Single());
        Assert.False(plain.ContainsKey("text/html"));
    }

    [Fact]
    public async Task The_workbook_formatters_come_back_after_a_reset()
    {
        await Run("Formatter.ResetToDefault();");
        var chart = Data((await Run("MLCourse.Plots.Charts.Line(new double[] { 1 }, new double[] { 2 })")).Single());
        Assert.Contains("Plotly.newPlot", chart["text/html"]);
    }

    [Fact]
    public async Task Html_javascript_latex_math_tables_and_pocket_views_have_their_mime_types()
    {
        Assert.Equal("<i>x</i>", Data((await Run("HTML(\"<i>x</i>\")")).Single())["text/html"]);
        Assert.Equal("alert(1)", Data((await Run("Javascript(\"alert(1)\")")).Single())["application/javascript"]);
        Assert.Equal(@"\frac{a}{b}", Data((await Run("new LaTeXString(@\"\\frac{a}{b}\")")).Single())["text/latex"]);
        Assert.Equal("$$x^2$$", Data((await Run("new MathString(\"x^2\")")).Single())["text/latex"]);
        var table = Data((await Run("new[] { new { Name = \"a\", Size = 1 }, new { Name = \"b\", Size = 2 } }.DisplayTable();")).Single());
        Assert.Contains("<table", table["text/html"]);
        Assert.Contains("Size", table["text/html"]);
        Assert.Contains("<b>bold</b>", Data((await Run("b(\"bold\")")).Single())["text/html"]);
    }

    [Fact]
    public async Task Load_runs_a_csx_file_relative_to_the_working_directory()
    {
        string folder = Directory.CreateTempSubdirectory("mlcourse-load-").FullName;
        File.WriteAllText(Path.Combine(folder, "helpers.csx"), "int Triple(int a) => 3 * a;");
        using var local = new ScriptSession(new SessionOptions { WorkingDirectory = folder });
        var sink = new OutputCollector();
        var result = await local.ExecuteAsync("#load \"helpers.csx\"\nTriple(14)", sink);
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal("42", Data(sink.Outputs.Single())["text/plain"]);
    }
}

/// <summary>Restores real packages from the configured NuGet sources (network or a local cache).</summary>
public class NuGetRestoreTests
{
    [Fact]
    public async Task Any_package_is_restored_and_usable_and_a_missing_one_names_the_problem()
    {
        using var session = new ScriptSession(new SessionOptions { CellTimeout = TimeSpan.FromMinutes(5) });
        var sink = new OutputCollector();
        var ok = await session.ExecuteAsync("#r \"nuget: Humanizer.Core, 2.14.1\"\nusing Humanizer;\n\"restored_from_nuget\".Humanize()", sink);
        Assert.True(ok.Status == CellStatus.Ok, ok.Diagnosis);
        Assert.Contains(sink.Outputs, o => o is StreamOutput { Text: "Installed package Humanizer.Core version 2.14.1\n" });
        Assert.Equal("restored from nuget", ((ResultOutput)sink.Outputs[^1]).Data["text/plain"]);

        var missing = await session.ExecuteAsync("#r \"nuget: Humanizer.Core, 999.0.0\"", new OutputCollector());
        Assert.Equal(CellStatus.Error, missing.Status);
        Assert.Contains("NU1102", missing.Diagnosis);
        Assert.Contains("Nearest version", missing.Diagnosis);
    }
}

using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

public class LoopPollsTests
{
    private static string Instrument(string code) => LoopPolls.Instrument(code, ScriptSession.ScriptParseOptions);

    private static int Polls(string code) =>
        System.Text.RegularExpressions.Regex.Matches(Instrument(code), "CellInterrupt\\.Poll").Count;

    [Fact]
    public void Every_kind_of_loop_gets_one_poll()
    {
        Assert.Equal(1, Polls("for (int i = 0; i < 3; i++) { }"));
        Assert.Equal(1, Polls("foreach (var x in new[] { 1 }) Console.WriteLine(x);"));
        Assert.Equal(1, Polls("foreach (var (a, b) in new[] { (1, 2) }) { }"));
        Assert.Equal(1, Polls("int n = 0; while (n < 3) n++;"));
        Assert.Equal(1, Polls("int n = 0; do n++; while (n < 3);"));
        Assert.Equal(2, Polls("void F() { for (;;) { foreach (var c in \"ab\") { } } }"));
    }

    [Fact]
    public void Cells_without_loops_or_with_syntax_errors_are_unchanged()
    {
        Assert.Equal("var format = \"done\";", Instrument("var format = \"done\";"));
        Assert.Equal("for (int i = 0; i < 3; i++ { }", Instrument("for (int i = 0; i < 3; i++ { }"));
    }

    [Fact]
    public void Lines_do_not_move_and_code_after_a_body_brace_keeps_its_column()
    {
        string code = "var s = 0;\nfor (int i = 0; i < 3; i++)\n{\n    s += i;\n}\nwhile (s > 100)\n    s--;\ns";
        string instrumented = Instrument(code);
        var before = code.Split('\n');
        var after = instrumented.Split('\n');
        Assert.Equal(before.Length, after.Length);
        for (int i = 0; i < before.Length; i++)
            Assert.StartsWith(before[i].TrimEnd('{'), after[i]);
        Assert.Equal("    s--;}", after[6]);
    }
}

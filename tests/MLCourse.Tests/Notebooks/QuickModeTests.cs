using System.Globalization;
using System.Text.RegularExpressions;
using MLCourse.Notebooks;

namespace MLCourse.Tests.Notebooks;

/// <summary>
/// Quick mode (<c>--quick</c>, <c>MLCOURSE_QUICK=1</c>) must never do more work than full mode by accident (issue 20):
/// every <c>Course.Pick(full: A, quick: B)</c> call whose two arguments are numeric literals, in every notebook of
/// notebooks/ and solutions/, needs <c>B ≤ A</c>. Both spellings are read: named arguments (in either order) and the
/// positional form <c>Course.Pick(A, B)</c>, whose first argument is the full-mode value.
/// <para>
/// The marker. A cell may deliberately pick a larger quick value (for instance more epochs over far fewer samples) when
/// the same cell says so in a <c>//</c> line comment that mentions "quick mode" and then "more" on the same line,
/// with no "no", "not", "never" or "n't" between them:
/// <c>// quick mode trains more epochs on 2,000 images</c> or <c>// quick mode: fewer images, more passes</c>.
/// The comment is the reader's explanation of why quick mode is not simply smaller.
/// </para>
/// </summary>
public class QuickModeTests
{
    /// <summary>One literal <c>Course.Pick</c> call: where it is and its two values.</summary>
    public sealed record PickCall(string Notebook, int Cell, string Text, double Full, double Quick);

    private const string Number = @"(?<{0}>[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][-+]?[0-9]+)?)[fFdDmMlLuU]?";

    private static readonly Regex Pick = new(
        @"Course\.Pick\s*(?:<[^>()]*>)?\s*\(\s*(?:(?<n1>full|quick)\s*:\s*)?" + string.Format(Number, "a")
        + @"\s*,\s*(?:(?<n2>full|quick)\s*:\s*)?" + string.Format(Number, "b") + @"\s*\)",
        RegexOptions.CultureInvariant);

    // no negation between "quick mode" and "more": "// quick mode: no more than 500 queries" or "… does not train more"
    // explains nothing and must not silence the test
    private static readonly Regex Marker = new(@"//[^\n]*quick mode(?:(?!\b(?:no|not|never)\b|n't\b)[^\n])*\bmore\b",
                                               RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>The literal <c>Course.Pick</c> calls in one cell's code.</summary>
    public static IEnumerable<PickCall> CallsIn(string code, string notebook = "", int cell = 0)
    {
        foreach (Match m in Pick.Matches(code))
        {
            string? first = m.Groups["n1"].Success ? m.Groups["n1"].Value : null;
            string? second = m.Groups["n2"].Success ? m.Groups["n2"].Value : null;
            if (first is not null && second is not null && first == second) continue;      // not valid C#; the compiler says so
            double a = Parse(m.Groups["a"].Value), b = Parse(m.Groups["b"].Value);
            bool swapped = first == "quick" || second == "full";
            yield return new PickCall(notebook, cell, m.Value, swapped ? b : a, swapped ? a : b);
        }
    }

    /// <summary>True when the cell explains why its quick value is larger (see the class comment).</summary>
    public static bool HasMarker(string code) => Marker.IsMatch(code);

    private static double Parse(string literal) => double.Parse(literal.Replace("_", ""), CultureInfo.InvariantCulture);

    private static IEnumerable<(string Name, int Index, string Code)> CodeCells()
    {
        foreach (string folder in new[] { "notebooks", "solutions" })
            foreach (string path in Directory.GetFiles(Path.Combine(Repo.Root, folder), "*.ipynb").Order(StringComparer.Ordinal))
            {
                var notebook = Notebook.Load(path);
                for (int i = 0; i < notebook.Cells.Count; i++)
                    if (notebook.Cells[i].Kind == CellKind.Code)
                        yield return ($"{folder}/{Path.GetFileName(path)}", i, notebook.Cells[i].Source);
            }
    }

    [Fact]
    public void No_notebook_trains_more_in_quick_mode_without_saying_so()
    {
        var cells = CodeCells().ToList();
        var calls = cells.SelectMany(c => CallsIn(c.Code, c.Name, c.Index)).ToList();
        Assert.True(calls.Count > 50, $"only {calls.Count} literal Course.Pick calls found: is the pattern still right?");

        var offenders = cells
            .Where(c => !HasMarker(c.Code))
            .SelectMany(c => CallsIn(c.Code, c.Name, c.Index))
            .Where(p => p.Quick > p.Full)
            .Select(p => $"{p.Notebook}, cell {p.Cell} (0-based): {p.Text} picks more in quick mode than in full mode;"
                         + " make quick ≤ full, or explain it in the cell with a comment such as \"// quick mode trains more …\"")
            .ToList();
        Assert.True(offenders.Count == 0, string.Join(Environment.NewLine, offenders));
    }

    [Fact]
    public void Both_spellings_and_both_argument_orders_are_read()
    {
        var calls = CallsIn("""
            int a = Course.Pick(full: 60_000, quick: 2_000), b = Course.Pick(quick: 8, full: 4);
            int c = Course.Pick(4, 8); double d = Course.Pick(full: 1e-3, quick: 2.5e-3);
            var e = Course.Pick(full: new[] { 1, 2 }, quick: new[] { 1 }); int f = Course.Pick<int>(10, 3);
            """).Select(p => (p.Full, p.Quick)).ToList();
        Assert.Equal(new[] { (60_000.0, 2_000.0), (4.0, 8.0), (4.0, 8.0), (1e-3, 2.5e-3), (10.0, 3.0) }, calls);
    }

    [Fact]
    public void The_marker_is_a_line_comment_that_says_quick_mode_does_more()
    {
        Assert.True(HasMarker("int numEpochs = Course.Pick(full: 5, quick: 12);   // quick mode: fewer images, more passes"));
        Assert.True(HasMarker("// Quick mode trains more epochs, on 2,000 images instead of 60,000\nint e = Course.Pick(4, 8);"));
        Assert.False(HasMarker("int e = Course.Pick(4, 8);   // epochs"));
        Assert.False(HasMarker("// more epochs\nint e = Course.Pick(4, 8);   // quick mode"));
        Assert.False(HasMarker("Console.WriteLine(\"quick mode trains more\");"));
        Assert.False(HasMarker("int n = Course.Pick(full: 500, quick: 2000);   // quick mode: no more than 500 queries"));
        Assert.False(HasMarker("// in quick mode this cell does not train more\nint e = Course.Pick(4, 8);"));
        Assert.False(HasMarker("int e = Course.Pick(4, 8);   // quick mode doesn't train more"));
    }
}

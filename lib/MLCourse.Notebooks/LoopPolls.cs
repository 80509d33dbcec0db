using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace MLCourse.Notebooks;

/// <summary>
/// Makes an interrupt (or a cell timeout) stop any loop a cell runs, not only the library's: before a cell is
/// compiled, each loop body gets a call to <see cref="CellInterrupt.Poll"/> at its start. Python notebooks get
/// this from KeyboardInterrupt; .NET has no way to abort a thread, so the loops ask.
/// </summary>
/// <remarks>
/// The calls are inserted as text without new lines, right after a body's <c>{</c> (or after a loop header whose
/// body is a single statement), so line numbers in diagnostics and stack traces stay those of the cell; only
/// code that follows the insertion point on the same line moves right.
/// </remarks>
internal static class LoopPolls
{
    private const string Poll = "global::MLCourse.Notebooks.CellInterrupt.Poll();";

    /// <summary>The cell's code with polls in its loops, or the code unchanged when it has no loops or does not parse.</summary>
    public static string Instrument(string code, CSharpParseOptions options)
    {
        var tree = CSharpSyntaxTree.ParseText(code, options);
        var root = tree.GetRoot();
        // Code with syntax errors is compiled as written, so that its diagnostics point at what the student typed.
        if (root.ContainsDiagnostics) return code;
        var changes = new List<TextChange>();
        foreach (var loop in root.DescendantNodes().OfType<StatementSyntax>())
        {
            (SyntaxToken header, StatementSyntax? body) = loop switch
            {
                ForStatementSyntax s => (s.CloseParenToken, s.Statement),
                ForEachStatementSyntax s => (s.CloseParenToken, s.Statement),
                ForEachVariableStatementSyntax s => (s.CloseParenToken, s.Statement),
                WhileStatementSyntax s => (s.CloseParenToken, s.Statement),
                DoStatementSyntax s => (s.DoKeyword, s.Statement),
                _ => (default, null),
            };
            if (body is null) continue;
            if (body is BlockSyntax block)
                changes.Add(new TextChange(new TextSpan(block.OpenBraceToken.Span.End, 0), Poll));
            else
            {
                changes.Add(new TextChange(new TextSpan(header.Span.End, 0), "{" + Poll));
                changes.Add(new TextChange(new TextSpan(body.Span.End, 0), "}"));
            }
        }
        if (changes.Count == 0) return code;
        return SourceText.From(code).WithChanges(changes).ToString();
    }
}

/// <summary>
/// The check every loop in a cell makes (inserted by the engine). It costs one volatile read while no cell is
/// being interrupted; when one is, it throws <see cref="OperationCanceledException"/> on that cell's threads.
/// </summary>
public static class CellInterrupt
{
    private static int pending;

    /// <summary>Throws when the cell running on this thread (or that started this task) has been interrupted.</summary>
    public static void Poll()
    {
        if (Volatile.Read(ref pending) != 0) Interactive.ThrowIfInterrupted();
    }

    /// <summary>Counts a cell whose interrupt was requested and that has not ended yet (polls take the slow path).</summary>
    internal static void Requested() => Interlocked.Increment(ref pending);

    /// <summary>The interrupted cell ended.</summary>
    internal static void Ended() => Interlocked.Decrement(ref pending);
}

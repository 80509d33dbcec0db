using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>A graded cell's <c>"mlcourse": {"id": …, "points": …}</c> metadata.</summary>
/// <param name="Id">Question id, e.g. <c>hw-mnist-mlp.q1</c>.</param>
/// <param name="Points">Points the solution notebook states (the checks' own attribute is what grading uses).</param>
/// <param name="Instruction">Optional <c>"instruction"</c>: the stub's message when no <c>// TODO:</c> line gives one.</param>
/// <param name="CellIndex">1-based position of the cell in the notebook.</param>
public sealed record GradedCell(string Id, double? Points, string? Instruction, int CellIndex)
{
    /// <summary>The graded cells of a notebook, in order.</summary>
    public static IReadOnlyList<GradedCell> Find(Notebook notebook)
    {
        var list = new List<GradedCell>();
        for (int i = 0; i < notebook.Cells.Count; i++)
            if (Read(notebook.Cells[i].Metadata) is { } cell) list.Add(cell with { CellIndex = i + 1 });
        return list;
    }

    /// <summary>The graded-cell metadata of one cell, or null.</summary>
    public static GradedCell? Read(JsonObject metadata)
    {
        if (metadata["mlcourse"] is not JsonObject m || m["id"] is not JsonValue idValue || !idValue.TryGetValue<string>(out var id)) return null;
        double? points = m["points"] is JsonValue p && p.TryGetValue<double>(out var d) ? d : null;
        string? instruction = m["instruction"] is JsonValue s && s.TryGetValue<string>(out var text) ? text : null;
        return new GradedCell(id, points, instruction, 0);
    }
}

/// <summary>Raised when solution markers are unbalanced; the message names the notebook, cell and line.</summary>
public sealed class SolutionMarkerException(string message) : Exception(message);

/// <summary>
/// Turns a solution notebook into the exercise students get (nbgrader's "release"): every region between
/// <c>// BEGIN SOLUTION</c> and <c>// END SOLUTION</c> becomes a stub that throws
/// <see cref="NotImplementedException"/> carrying the question's instruction; prose, ungraded code and the graded
/// cells' metadata stay; outputs are cleared. The solution notebook is the only master.
/// </summary>
/// <remarks>
/// The instruction is the <c>// TODO: …</c> comment just above the region (it stays in the exercise) or on the
/// region's first line (it is kept above the stub), else the cell's <c>mlcourse.instruction</c> metadata, else a
/// generic sentence naming the question. A region must hold whole statements (a method body, top-level code).
/// </remarks>
public static partial class SolutionRelease
{
    /// <summary>True when any code cell of the notebook holds a solution region.</summary>
    public static bool HasSolutions(Notebook notebook) =>
        notebook.Cells.Any(c => c.Kind == CellKind.Code && Begin().IsMatch(c.Source));

    /// <summary>The exercise for <paramref name="solution"/> (a new notebook; the solution is not changed).</summary>
    public static Notebook Release(Notebook solution)
    {
        var exercise = Notebook.Parse(solution.ToJson(), solution.Path ?? "solution");
        exercise.ClearOutputs();
        string name = System.IO.Path.GetFileName(solution.Path ?? "notebook");
        for (int i = 0; i < exercise.Cells.Count; i++)
        {
            var cell = exercise.Cells[i];
            if (cell.Kind != CellKind.Code) continue;
            var graded = GradedCell.Read(cell.Metadata);
            cell.Source = StubRegions(cell.Source, graded, $"{name}: cell {i + 1}");
        }
        return exercise;
    }

    /// <summary>Replaces every solution region of one cell's source by a throwing stub.</summary>
    public static string StubRegions(string source, GradedCell? graded, string where)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        var output = new StringBuilder();
        for (int i = 0; i < lines.Length; i++)
        {
            if (End().IsMatch(lines[i]))
                throw new SolutionMarkerException($"{where}, line {i + 1}: // END SOLUTION without a // BEGIN SOLUTION.");
            if (!Begin().IsMatch(lines[i]))
            {
                Append(output, lines[i]);
                continue;
            }
            string indent = lines[i][..(lines[i].Length - lines[i].TrimStart().Length)];
            int end = i + 1;
            while (end < lines.Length && !End().IsMatch(lines[end]))
            {
                if (Begin().IsMatch(lines[end]))
                    throw new SolutionMarkerException($"{where}, line {end + 1}: // BEGIN SOLUTION inside another solution region.");
                end++;
            }
            if (end == lines.Length)
                throw new SolutionMarkerException($"{where}, line {i + 1}: // BEGIN SOLUTION without a // END SOLUTION.");

            // The TODO comment above the region (a block of // lines ending right above BEGIN) stays as it is;
            // one that opens the region is kept above the stub.
            string? instruction = null;
            int top = i;
            while (top > 0 && Comment().IsMatch(lines[top - 1])) top--;
            for (int k = top; k < i && instruction is null; k++)
                if (Todo().Match(lines[k]) is { Success: true } above) instruction = Join(above, lines[(k + 1)..i]);
            if (instruction is null && i + 1 < end && Todo().Match(lines[i + 1]) is { Success: true } first)
            {
                int last = i + 2;
                while (last < end && Comment().IsMatch(lines[last]) && !Todo().IsMatch(lines[last])) last++;
                instruction = Join(first, lines[(i + 2)..last]);
                for (int k = i + 1; k < last; k++) Append(output, lines[k]);
            }
            instruction ??= graded?.Instruction
                            ?? (graded is null ? "Write this part of the exercise." : $"Write your answer to question {graded.Id}.");
            Append(output, $"{indent}throw new NotImplementedException({Literal(instruction)});");
            i = end;
        }
        return output.ToString();

        static void Append(StringBuilder b, string line)
        {
            if (b.Length > 0) b.Append('\n');
            b.Append(line);
        }
    }

    private static string Join(Match todo, IEnumerable<string> continuation) =>
        string.Join(" ", new[] { todo.Groups["text"].Value.Trim() }.Concat(continuation.Select(l => l.Trim().TrimStart('/').Trim())))
              .Trim();

    /// <summary>A C# string literal of <paramref name="text"/>: every character escaped as the compiler needs (newlines, tabs, control characters, quotes).</summary>
    private static string Literal(string text) => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(text, quote: true);

    [GeneratedRegex(@"^\s*//\s*BEGIN SOLUTION\s*$")]
    private static partial Regex Begin();

    [GeneratedRegex(@"^\s*//\s*END SOLUTION\s*$")]
    private static partial Regex End();

    [GeneratedRegex(@"^\s*//(?!\s*(BEGIN|END) SOLUTION)")]
    private static partial Regex Comment();

    [GeneratedRegex(@"^\s*//\s*TODO:?\s*(?<text>.+)$")]
    private static partial Regex Todo();
}

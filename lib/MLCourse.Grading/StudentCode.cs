using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using MLCourse.Notebooks;

namespace MLCourse.Grading;

/// <summary>A place in the student's code: the method, the notebook's cell (1-based among all cells) and the line within it.</summary>
/// <param name="Method">The student's method, e.g. <c>Mlp.forward</c> or <c>TrainEpoch</c>; <c>&lt;cell&gt;</c> for top-level code.</param>
/// <param name="Cell">The cell's index among all the notebook's cells (1-based), as the worker labels it.</param>
/// <param name="Line">The line within the cell (1-based).</param>
public sealed record CodePlace(string Method, int Cell, int Line);

/// <summary>
/// Speaks of the student's code in the student's terms: a cell by its question id or its position among the CODE cells
/// (never a count that includes Markdown cells) and its first line; an exception by the innermost frame in the student's
/// code (the function that caused it, e.g. <c>forward</c>, not the later cell or check that called it), that line's
/// text, the message without native frames, and a hint for the common kinds (shape mismatch, dtype, device, index).
/// </summary>
public static partial class StudentCode
{
    private static Notebook? current;

    /// <summary>The notebook whose code the worker runs (set by the worker before the first cell).</summary>
    internal static void Use(Notebook notebook) => current = notebook;

    /// <summary>
    /// How the student finds the cell with 1-based index <paramref name="cell"/> among all cells:
    /// <c>the cell of hw-mnist-mlp.q1, code cell 4</c>, or <c>code cell 2 (`var mnist = Mnist.Load();`)</c>.
    /// </summary>
    public static string CellName(Notebook notebook, int cell)
    {
        if (cell < 1 || cell > notebook.Cells.Count) return $"cell {cell}";
        int position = notebook.Cells.Take(cell).Count(c => c.Kind == CellKind.Code);
        var c = notebook.Cells[cell - 1];
        if (GradedCell.Find(notebook).FirstOrDefault(g => g.CellIndex == cell) is { } graded)
            return $"the cell of {graded.Id}, code cell {position}";
        string first = c.Source.Replace("\r\n", "\n").Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.Length > 0 && !l.StartsWith("//", StringComparison.Ordinal)) ?? "";
        return $"code cell {position}" + (first.Length == 0 ? "" : $" (`{Shorten(first, 60)}`)");
    }

    /// <summary>The innermost frame of <paramref name="exception"/> that lies in a notebook cell, or null.</summary>
    public static CodePlace? Locate(Exception exception)
    {
        foreach (var frame in new StackTrace(exception, fNeedFileInfo: true).GetFrames())
        {
            if (frame.GetFileName() is not { } file || CellFile().Match(file) is not { Success: true } m) continue;
            int line = frame.GetFileLineNumber();
            if (line <= 0) continue;
            return new CodePlace(MethodName(frame.GetMethod()), int.Parse(m.Groups[1].Value), line);
        }
        return null;
    }

    /// <summary>
    /// The innermost student frame in a cell's traceback as <see cref="ScriptSession"/> writes it
    /// (<c>at Mlp.forward in cell 8, line 19</c> for the failing cell, <c>at Mlp.forward in nb.ipynb cell 8:line 19</c> for others).
    /// </summary>
    public static CodePlace? Locate(IEnumerable<string> traceback)
    {
        foreach (string line in traceback)
        {
            if (OwnCellFrame().Match(line) is { Success: true } own)
                return new CodePlace(Method(own.Groups["m"].Value), int.Parse(own.Groups["c"].Value), int.Parse(own.Groups["l"].Value));
            if (OtherCellFrame().Match(line) is { Success: true } other)
                return new CodePlace(Method(other.Groups["m"].Value), int.Parse(other.Groups["c"].Value), int.Parse(other.Groups["l"].Value));
        }
        return null;

        static string Method(string described) => described == "<cell>" ? "<cell>" : described.Split('(')[0];
    }

    /// <summary>
    /// An exception the student's code threw inside a check, in the student's terms (the worker's notebook; without
    /// one, or without a frame in a cell, the message and the hint alone).
    /// </summary>
    public static string Explain(Exception exception) =>
        Explain(exception.GetType().Name, exception.Message, Locate(exception), current);

    /// <summary>
    /// <c>your code threw ExternalException in Mlp.forward (the cell of hw-mnist-mlp.q1 (code cell 4)), line 19:
    /// `x = nn.functional.relu(fc1.call(x));`: mat1 and mat2 shapes … Hint: …</c>.
    /// </summary>
    public static string Explain(string errorName, string message, CodePlace? place, Notebook? notebook)
    {
        string text = Message(message);
        string? lineText = null;
        string where = "";
        if (place is not null && notebook is not null && place.Cell >= 1 && place.Cell <= notebook.Cells.Count)
        {
            var lines = notebook.Cells[place.Cell - 1].Source.Replace("\r\n", "\n").Split('\n');
            lineText = place.Line <= lines.Length ? WithoutComment(lines[place.Line - 1]).Trim() : null;
            string method = place.Method == "<cell>" ? "" : $" in {place.Method}";
            where = $"{method} ({CellName(notebook, place.Cell)}), line {place.Line}"
                    + (string.IsNullOrEmpty(lineText) ? "" : $": `{Shorten(lineText, 100)}`");
        }
        string hint = Hint(errorName, text, lineText);
        return $"your code threw {errorName}{where}: {text}{(hint.Length == 0 ? "" : " Hint: " + hint)}";
    }

    /// <summary>The exception's message: its first line, without libtorch's "Exception raised from …" tail.</summary>
    public static string Message(string message)
    {
        string first = message.Replace("\r\n", "\n").Split('\n')[0];
        int cut = first.IndexOf("Exception raised from", StringComparison.Ordinal);
        if (cut > 0) first = first[..cut];
        first = first.Trim();
        return first.EndsWith('.') || first.EndsWith(':') ? first : first + ".";
    }

    /// <summary>A hint for the common kinds of error, naming the layer or the call on the line where it can; empty otherwise.</summary>
    public static string Hint(string errorName, string message, string? lineText)
    {
        string line = lineText ?? "";
        if (MatMul().Match(message) is { Success: true } mm)
        {
            string layer = LayerCall().Match(line) is { Success: true } l ? $"the layer {l.Groups[1].Value}" : "a Linear layer";
            long got = long.Parse(mm.Groups[2].Value), want = long.Parse(mm.Groups[3].Value);
            return $"shape mismatch: {layer} expects {want} input features per row but received rows of {got}. "
                   + "Flatten images to (batch, features) with x.flatten(1) before the first layer, and give each layer as many "
                   + "inputs as the previous one has outputs.";
        }
        if (SizeMismatch().Match(message) is { Success: true } sm)
            return $"shape mismatch: two tensors on this line have {sm.Groups[1].Value} and {sm.Groups[2].Value} entries along dimension "
                   + $"{sm.Groups[3].Value}; print their .shape and reshape, flatten or unsqueeze one of them (for logits and labels: argmax over dim 1 first).";
        if (message.Contains("is not compatible with", StringComparison.Ordinal) || message.Contains("scalar type", StringComparison.OrdinalIgnoreCase)
            || message.Contains("can't be cast to the desired output type", StringComparison.Ordinal) || message.Contains("Expected object of scalar type", StringComparison.Ordinal))
        {
            string call = DtypeCall().Match(line) is { Success: true } c ? $"the call {c.Value}" : "a call on this line";
            return $"dtype mismatch: {call} reads or combines a tensor as another element type. Counts, argmax and labels are int64 "
                   + "(.item<long>()), model outputs and losses float32 (.item<float>()); convert with .to_type(ScalarType.Float32) or ScalarType.Int64 where needed.";
        }
        if (message.Contains("same device", StringComparison.Ordinal))
            return "device mismatch: move every tensor to the model's device with .to(device).";
        if (message.Contains("out of bounds", StringComparison.Ordinal) && message.Contains("Target", StringComparison.Ordinal))
            return "a label is not smaller than the number of classes: the output layer needs one output per class.";
        if (message.Contains("Dimension out of range", StringComparison.Ordinal))
            return "a dim argument is larger than the tensor's number of dimensions: check the tensor's shape.";
        if (message.Contains("does not require grad", StringComparison.Ordinal))
            return "backward() on a tensor without a graph: compute the loss from the model's output, not under no_grad or after .detach().";
        return errorName switch
        {
            "NullReferenceException" => "a variable or field used on this line is null (not assigned yet?).",
            "IndexOutOfRangeException" or "ArgumentOutOfRangeException" => "an index on this line is outside the array, list or tensor.",
            "DivideByZeroException" => "a division by zero: an empty batch or list?",
            _ => "",
        };
    }

    private static string MethodName(MethodBase? method)
    {
        if (method is null) return "<cell>";
        string name = method.Name;
        if (LambdaOwner().Match(name) is { Success: true } owner) name = owner.Groups[1].Value;
        var type = method.DeclaringType;
        while (type is not null && (type.Name.StartsWith('<') || type.Name.Contains("DisplayClass", StringComparison.Ordinal))) type = type.DeclaringType;
        if (name is "<Initialize>" or "Initialize" || type is null) return "<cell>";
        return type.Name.StartsWith("Submission#", StringComparison.Ordinal) ? name : $"{type.Name}.{name}";
    }

    /// <summary>The line without a trailing <c>// comment</c> (one outside a string literal).</summary>
    private static string WithoutComment(string line)
    {
        int at = line.IndexOf("//", StringComparison.Ordinal);
        return at > 0 && line[..at].Count(ch => ch == '"') % 2 == 0 ? line[..at] : line;
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : s[..(max - 1)] + "…";

    [GeneratedRegex(@"\bcell (\d+)$")]
    private static partial Regex CellFile();

    [GeneratedRegex(@"^\s*at (?<m>.+?) in cell (?<c>\d+), line (?<l>\d+)\s*$")]
    private static partial Regex OwnCellFrame();

    [GeneratedRegex(@"^\s*at (?<m>.+?) in .*\bcell (?<c>\d+):line (?<l>\d+)\s*$")]
    private static partial Regex OtherCellFrame();

    [GeneratedRegex(@"^<([^>]+)>")]
    private static partial Regex LambdaOwner();

    [GeneratedRegex(@"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")]
    private static partial Regex MatMul();

    [GeneratedRegex(@"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\) at non-singleton dimension (\d+)")]
    private static partial Regex SizeMismatch();

    [GeneratedRegex(@"(\w+)\.(?:call|forward)\(")]
    private static partial Regex LayerCall();

    [GeneratedRegex(@"\.(?:item|data|ToScalar|to_type|to)\s*(?:<[^>]*>)?\([^)]*\)")]
    private static partial Regex DtypeCall();
}

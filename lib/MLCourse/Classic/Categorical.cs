using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Classic;

/// <summary>
/// Turns tables of strings (such as the income table of the decision-tree example) into integer codes that the
/// classic algorithms take as tensors, and keeps the names so trees can be printed with them.
/// Codes follow the order of first appearance. Introduced in chapter 03 (classic machine learning).
/// </summary>
public static class Categorical
{
    /// <summary>
    /// Encodes a table of categorical features, one row per sample. Returns <c>X</c> as an int64 tensor
    /// (samples, features) of codes and, per column, the category names (code = index in that list).
    /// </summary>
    public static (Tensor X, string[][] Categories) Encode(IReadOnlyList<IReadOnlyList<string>> rows)
    {
        if (rows.Count == 0) throw new ArgumentException("The table has no rows.");
        int d = rows[0].Count;
        var categories = Enumerable.Range(0, d).Select(_ => new List<string>()).ToArray();
        var codes = new long[rows.Count * d];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Count != d) throw new ArgumentException($"Row {i} has {rows[i].Count} values, row 0 has {d}.");
            for (int j = 0; j < d; j++) codes[i * d + j] = CodeOf(categories[j], rows[i][j]);
        }
        return (torch.tensor(codes, rows.Count, d), categories.Select(c => c.ToArray()).ToArray());
    }

    /// <summary>Encodes string class labels as an int64 tensor of codes 0..C-1 plus the class names.</summary>
    public static (Tensor y, string[] Classes) EncodeLabels(IReadOnlyList<string> labels)
    {
        var classes = new List<string>();
        var codes = labels.Select(l => CodeOf(classes, l)).ToArray();
        return (torch.tensor(codes), classes.ToArray());
    }

    private static long CodeOf(List<string> names, string value)
    {
        int code = names.IndexOf(value);
        if (code >= 0) return code;
        names.Add(value);
        return names.Count - 1;
    }
}

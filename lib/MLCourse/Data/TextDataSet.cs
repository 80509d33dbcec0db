namespace MLCourse.Data;

/// <summary>
/// A text classification set: one string per sample, its label and the class names (plus, for IMDB, the
/// review id and the star rating from the file name). Texts stay managed strings; a tokenizer turns them
/// into tensors. Introduced in chapter 05 (text classification).
/// </summary>
public sealed class TextDataSet
{
    /// <summary>Wraps texts and labels (same length).</summary>
    public TextDataSet(IReadOnlyList<string> texts, long[] labels, IReadOnlyList<string> classNames, int[]? ratings = null, int[]? ids = null)
    {
        if (texts.Count != labels.Length) throw new ArgumentException($"{texts.Count} texts but {labels.Length} labels.");
        if (ratings is not null && ratings.Length != texts.Count) throw new ArgumentException($"{texts.Count} texts but {ratings.Length} ratings.");
        if (ids is not null && ids.Length != texts.Count) throw new ArgumentException($"{texts.Count} texts but {ids.Length} ids.");
        Texts = texts;
        Labels = labels;
        ClassNames = classNames;
        Ratings = ratings ?? [];
        Ids = ids ?? [];
    }

    /// <summary>The texts.</summary>
    public IReadOnlyList<string> Texts { get; }

    /// <summary>Class index of each text (-1 for unlabelled texts).</summary>
    public long[] Labels { get; }

    /// <summary>Name of each class index.</summary>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>Star rating of each review (IMDB: 1-4 negative, 7-10 positive, 0 unlabelled); empty when the set has none.</summary>
    public int[] Ratings { get; }

    /// <summary>Id of each text within its part (IMDB: the number in the file name); empty when the set has none.</summary>
    public int[] Ids { get; }

    /// <summary>Number of texts.</summary>
    public int Count => Texts.Count;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Count} texts, classes [{string.Join(", ", ClassNames)}]" + (ClassNames.Count > 0
            ? ": " + string.Join(", ", Enumerable.Range(0, ClassNames.Count).Select(c => $"{ClassNames[c]} {Labels.Count(l => l == c)}"))
            : "");
}

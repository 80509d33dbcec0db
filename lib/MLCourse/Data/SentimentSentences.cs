using System.Text;

namespace MLCourse.Data;

/// <summary>The three sources of the UCI Sentiment Labelled Sentences set. Introduced in chapter 05.</summary>
public enum SentimentSource
{
    /// <summary>Sentences from IMDB movie reviews (<c>imdb_labelled.txt</c>).</summary>
    Imdb,
    /// <summary>Sentences from Amazon reviews of cell phones and accessories (<c>amazon_cells_labelled.txt</c>).</summary>
    Amazon,
    /// <summary>Sentences from Yelp restaurant reviews (<c>yelp_labelled.txt</c>).</summary>
    Yelp,
}

/// <summary>
/// UCI Sentiment Labelled Sentences (Kotzias et al. 2015): 1,000 sentences from each of IMDB, Amazon and Yelp,
/// 500 labelled 0 (negative) and 500 labelled 1 (positive). Each line is split on its LAST tab and quotes are
/// ordinary characters (imdb_labelled.txt has an unbalanced quote that a CSV reader would swallow lines with).
/// Introduced in chapter 05 (text classification).
/// </summary>
public static class SentimentSentences
{
    /// <summary>The name of the set in <c>data/datasets.json</c> and of its folder.</summary>
    public const string Name = "uci-sentiment-labelled-sentences";

    /// <summary>The class names: 0 = "negative", 1 = "positive".</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["negative", "positive"];

    private const int RowsPerFile = 1000;

    /// <summary>Loads the 1,000 sentences of one source, in file order (sentences trimmed of surrounding spaces).</summary>
    /// <param name="source">Which file.</param>
    /// <param name="path">The folder holding the three files; when null the set is looked up.</param>
    public static TextDataSet Load(SentimentSource source, string? path = null)
    {
        string folder = DataLocator.Find(DataManifest.Get(Name), path);
        return ReadFile(Path.Combine(folder, FileName(source)));
    }

    /// <summary>Loads all 3,000 sentences: IMDB, then Amazon, then Yelp.</summary>
    public static TextDataSet LoadAll(string? path = null)
    {
        var parts = Enum.GetValues<SentimentSource>().Select(s => Load(s, path)).ToArray();
        return new TextDataSet(parts.SelectMany(p => p.Texts).ToArray(), parts.SelectMany(p => p.Labels).ToArray(), ClassNames);
    }

    /// <summary>The file name of a source.</summary>
    public static string FileName(SentimentSource source) => source switch
    {
        SentimentSource.Imdb => "imdb_labelled.txt",
        SentimentSource.Amazon => "amazon_cells_labelled.txt",
        SentimentSource.Yelp => "yelp_labelled.txt",
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };

    internal static TextDataSet ReadFile(string file)
    {
        if (!File.Exists(file)) throw new DataSetException($"{file} is missing; expected {RowsPerFile} lines of `sentence<TAB>label`.", file);
        var texts = new List<string>(RowsPerFile);
        var labels = new List<long>(RowsPerFile);
        string[] lines = File.ReadAllText(file, Encoding.UTF8).Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0) continue;
            int tab = line.LastIndexOf('\t');
            string label = tab < 0 ? "" : line[(tab + 1)..].Trim();
            if (label is not ("0" or "1"))
                throw new DataSetException($"{file} line {i + 1}: expected `sentence<TAB>0` or `sentence<TAB>1`, found \"{Shorten(line)}\".", file);
            texts.Add(line[..tab].Trim());
            labels.Add(label == "1" ? 1 : 0);
        }
        if (texts.Count != RowsPerFile)
            throw new DataSetException($"{file} has {texts.Count} labelled lines, expected {RowsPerFile}.", file);
        return new TextDataSet(texts, labels.ToArray(), ClassNames);
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..60] + "…";
}

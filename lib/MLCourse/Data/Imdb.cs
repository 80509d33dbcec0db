using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace MLCourse.Data;

/// <summary>The labelled parts of IMDB: 25,000 training and 25,000 test reviews. Introduced in chapter 05.</summary>
/// <param name="Train">Training reviews (12,500 negative, then 12,500 positive).</param>
/// <param name="Test">Test reviews, in the same order.</param>
public sealed record ImdbData(TextDataSet Train, TextDataSet Test);

/// <summary>
/// The Large Movie Review Dataset (Maas et al. 2011, "aclImdb"): movie reviews labelled negative (rating 1-4)
/// or positive (7-10), plus 50,000 unlabelled ones. Reviews are read streaming from the .tar.gz (never
/// extracted to disk); an extracted <c>aclImdb</c> folder works too. Texts are kept verbatim (they contain
/// <c>&lt;br /&gt;</c> tags). Introduced in chapter 05 (text classification).
/// </summary>
public static partial class Imdb
{
    /// <summary>The name of the set in <c>data/datasets.json</c> and of its folder.</summary>
    public const string Name = "imdb";

    /// <summary>The class names: 0 = "neg", 1 = "pos".</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["neg", "pos"];

    private const int PerClass = 12_500;
    private const int Unlabelled = 50_000;
    private const string Official = "aclImdb_v1.tar.gz", LabelledRepack = "aclImdb_v1_labelled.tar.gz", UnsupRepack = "aclImdb_v1_unsup.tar.gz";

    /// <summary>
    /// Loads the labelled train and test reviews, each ordered negative then positive and by review id.
    /// <paramref name="path"/> may be the official <c>aclImdb_v1.tar.gz</c>, a folder holding it (or the course's
    /// repacks <c>aclImdb_v1_labelled.tar.gz</c> + <c>aclImdb_v1_unsup.tar.gz</c>), or an extracted <c>aclImdb</c>
    /// folder; when null the set is looked up (MLCOURSE_DATA, the repository's data/, the user cache).
    /// </summary>
    public static ImdbData Load(string? path = null)
    {
        var reviews = Read(Source(path, LabelledRepack), unsup: false);
        return new ImdbData(Part(reviews, "train"), Part(reviews, "test"));
    }

    /// <summary>Loads the 50,000 unlabelled reviews (<c>train/unsup</c>), by review id; labels are -1, ratings 0.</summary>
    public static TextDataSet LoadUnlabelled(string? path = null)
    {
        string source = Source(path, UnsupRepack);
        var reviews = Read(source, unsup: true).Where(r => r.Split == "train" && r.Label < 0).OrderBy(r => r.Id).ToArray();
        if (reviews.Length != Unlabelled)
            throw new DataSetException($"{source} holds {reviews.Length} unlabelled reviews (train/unsup), expected {Unlabelled}.", source);
        return new TextDataSet(reviews.Select(r => r.Text).ToArray(), reviews.Select(r => (long)r.Label).ToArray(), ClassNames,
            reviews.Select(r => r.Rating).ToArray(), reviews.Select(r => r.Id).ToArray());
    }

    internal sealed record Review(string Split, int Label, int Id, int Rating, string Text);

    private static TextDataSet Part(List<Review> all, string split)
    {
        var part = all.Where(r => r.Split == split && r.Label >= 0).OrderBy(r => r.Label).ThenBy(r => r.Id).ToArray();
        for (int label = 0; label < 2; label++)
        {
            int count = part.Count(r => r.Label == label);
            if (count != PerClass)
                throw new DataSetException($"IMDB {split}/{ClassNames[label]} has {count} reviews, expected {PerClass}: the archive or folder is incomplete.");
        }
        return new TextDataSet(part.Select(r => r.Text).ToArray(), part.Select(r => (long)r.Label).ToArray(), ClassNames,
            part.Select(r => r.Rating).ToArray(), part.Select(r => r.Id).ToArray());
    }

    /// <summary>The archive or extracted folder to read: an explicit file or folder, else the located set's folder.</summary>
    private static string Source(string? path, string repack)
    {
        string folder;
        if (!string.IsNullOrWhiteSpace(path))
        {
            path = Path.GetFullPath(path);
            if (File.Exists(path)) return path;
            if (!Directory.Exists(path)) throw new DataSetException($"IMDB path {path} does not exist.", path);
            folder = path;
        }
        else
        {
            folder = DataLocator.Find(DataManifest.Get(Name));
        }
        foreach (string candidate in new[] { repack, Official })
            if (File.Exists(Path.Combine(folder, candidate))) return Path.Combine(folder, candidate);
        if (Directory.Exists(Path.Combine(folder, "aclImdb", "train"))) return Path.Combine(folder, "aclImdb");
        if (Directory.Exists(Path.Combine(folder, "train")) && Directory.Exists(Path.Combine(folder, "test"))) return folder;
        throw new DataSetException(
            $"{folder} holds no IMDB data: expected {Official}, {repack} or an extracted aclImdb/ folder. "
            + $"Run `mlcourse data fetch {Name}` to download the official tarball.", folder);
    }

    [GeneratedRegex(@"(?:^|/)(train|test)/(pos|neg|unsup)/(\d+)_(\d+)\.txt$")]
    private static partial Regex ReviewPath();

    /// <summary>Reads the reviews of an archive (streaming) or an extracted folder; <paramref name="unsup"/> picks the unlabelled ones.</summary>
    internal static List<Review> Read(string source, bool unsup)
    {
        var reviews = new List<Review>(unsup ? Unlabelled : 4 * PerClass);
        if (Directory.Exists(source))
        {
            foreach (string split in unsup ? new[] { "train" } : ["train", "test"])
                foreach (string kind in unsup ? new[] { "unsup" } : ["neg", "pos"])
                {
                    string dir = Path.Combine(source, split, kind);
                    if (!Directory.Exists(dir)) throw new DataSetException($"{dir} is missing from the extracted IMDB folder.", dir);
                    foreach (string file in Directory.EnumerateFiles(dir, "*.txt"))
                        if (Parse($"{split}/{kind}/{Path.GetFileName(file)}") is { } r)
                            reviews.Add(r with { Text = File.ReadAllText(file, Encoding.UTF8) });
                }
            return reviews;
        }
        try
        {
            using var file = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            using var gzip = new GZipStream(file, CompressionMode.Decompress);
            using var buffered = new BufferedStream(gzip, 1 << 20);
            using var tar = new TarReader(buffered);
            byte[] buffer = new byte[1 << 16];
            while (tar.GetNextEntry() is { } entry)
            {
                Interactive.ThrowIfInterrupted();
                if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || entry.DataStream is null) continue;
                if (Parse(entry.Name) is not { } review || (review.Label < 0) != unsup) continue;
                int length = checked((int)entry.Length);
                if (buffer.Length < length) buffer = new byte[Math.Max(length, 2 * buffer.Length)];
                entry.DataStream.ReadExactly(buffer, 0, length);
                reviews.Add(review with { Text = Encoding.UTF8.GetString(buffer, 0, length) });
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DataSetException(
                $"{source} could not be read as a .tar.gz ({e.Message}): the file is truncated or corrupt. Delete it and run `mlcourse data fetch {Name}`.",
                source, e);
        }
        return reviews;
    }

    private static Review? Parse(string entryName)
    {
        var m = ReviewPath().Match(entryName.Replace('\\', '/'));
        if (!m.Success) return null;
        int label = m.Groups[2].Value switch { "neg" => 0, "pos" => 1, _ => -1 };
        return new Review(m.Groups[1].Value, label, int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value), "");
    }
}

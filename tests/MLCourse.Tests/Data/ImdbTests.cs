using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using MLCourse.Data;
using Xunit.Abstractions;

namespace MLCourse.Tests.Data;

public class ImdbTests(ITestOutputHelper output)
{
    // One test reads the real archives (a few seconds each); reference values were read with python3's
    // tarfile module: the first characters and the rating of a few reviews, and the rating counts of
    // SOURCES.md (train pos 7:2496 8:3009 9:2263 10:4732; train neg 1:5100 2:2284 3:2420 4:2696).
    [SkippableFact]
    public void Reads_25000_train_25000_test_and_50000_unlabelled_reviews_from_the_tar_gz()
    {
        string? folder = TestData.Folder(Imdb.Name);
        Skip.If(folder is null, TestData.SkipReason(Imdb.Name));

        var clock = Stopwatch.StartNew();
        var data = Imdb.Load(folder);
        output.WriteLine($"IMDB 50k labelled reviews read from the .tar.gz: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(25000, data.Train.Count);
        Assert.Equal(25000, data.Test.Count);
        Assert.Equal(12500, data.Train.Labels.Count(l => l == 1));
        Assert.Equal(12500, data.Test.Labels.Count(l => l == 0));
        // Order: negative then positive, each by review id.
        Assert.Equal(0, data.Train.Labels[0]);
        Assert.Equal(0, data.Train.Ids[0]);
        Assert.Equal(3, data.Train.Ratings[0]);
        Assert.StartsWith("Story of a man who has unnatural feelings for a pig.", data.Train.Texts[0]);
        Assert.Equal(1, data.Train.Labels[12500]);
        Assert.Equal(9, data.Train.Ratings[12500]);
        Assert.StartsWith("Bromwell High is a cartoon comedy.", data.Train.Texts[12500]);
        Assert.Equal(12499, data.Test.Ids[^1]);
        Assert.Equal(10, data.Test.Ratings[^1]);
        Assert.StartsWith("I was plagued by nightmares involving Sesame Street", data.Test.Texts[^1]);
        var ratings = data.Train.Ratings.GroupBy(r => r).OrderBy(g => g.Key).Select(g => (g.Key, g.Count())).ToArray();
        Assert.Equal([(1, 5100), (2, 2284), (3, 2420), (4, 2696), (7, 2496), (8, 3009), (9, 2263), (10, 4732)], ratings);
        Assert.All(data.Train.Texts, t => Assert.NotEmpty(t));

        clock.Restart();
        var unsup = Imdb.LoadUnlabelled(folder);
        output.WriteLine($"IMDB 50k unlabelled reviews read from the .tar.gz: {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(50000, unsup.Count);
        Assert.All(unsup.Labels, l => Assert.Equal(-1, l));
        Assert.Equal(0, unsup.Ratings[0]);
        Assert.StartsWith("I admit, the great majority of films released before say 193", unsup.Texts[0]);
    }

    [Fact]
    public void The_official_single_tarball_and_an_extracted_folder_read_the_same()
    {
        using var dir = new TempFolder();
        var files = SmallSet();
        string tarball = dir.File("aclImdb_v1.tar.gz", TarGz(files));
        foreach (var (name, text) in files) dir.Text(Path.Combine("extracted", name), text);

        var fromTar = Imdb.Read(tarball, unsup: false);
        var fromFolder = Imdb.Read(Path.Combine(dir.Path, "extracted", "aclImdb"), unsup: false);
        Assert.Equal(4, fromTar.Count);
        Assert.Equal(fromTar.OrderBy(r => r.Split).ThenBy(r => r.Label).ThenBy(r => r.Id), fromFolder.OrderBy(r => r.Split).ThenBy(r => r.Label).ThenBy(r => r.Id));
        var unsup = Imdb.Read(tarball, unsup: true);
        Assert.Equal(new Imdb.Review("train", -1, 5, 0, "unlabelled ü"), Assert.Single(unsup));
        var pos = fromTar.Single(r => r.Split == "test" && r.Label == 1);
        Assert.Equal((12, 8, "great <br /><br />film"), (pos.Id, pos.Rating, pos.Text));
    }

    [Fact]
    public void A_truncated_tar_gz_names_the_file_and_the_fetch_command()
    {
        using var dir = new TempFolder();
        var whole = TarGz(SmallSet());
        string path = dir.File("aclImdb_v1.tar.gz", whole[..(whole.Length / 2)]);
        var error = Assert.Throws<DataSetException>(() => Imdb.Load(path));
        Assert.Contains("aclImdb_v1.tar.gz", error.Message);
        Assert.Contains("mlcourse data fetch imdb", error.Message);
    }

    [Fact]
    public void An_incomplete_archive_is_refused_with_the_expected_count()
    {
        using var dir = new TempFolder();
        string path = dir.File("aclImdb_v1.tar.gz", TarGz(SmallSet()));
        var error = Assert.Throws<DataSetException>(() => Imdb.Load(path));
        Assert.Contains("expected 12500", error.Message);
    }

    private static (string Name, string Text)[] SmallSet() =>
    [
        ("aclImdb/README", "readme"),
        ("aclImdb/train/neg/3_2.txt", "bad film"),
        ("aclImdb/train/pos/4_10.txt", "good film"),
        ("aclImdb/test/neg/0_1.txt", "awful"),
        ("aclImdb/test/pos/12_8.txt", "great <br /><br />film"),
        ("aclImdb/train/unsup/5_0.txt", "unlabelled ü"),
    ];

    private static byte[] TarGz((string Name, string Text)[] files)
    {
        using var memory = new MemoryStream();
        using (var gzip = new GZipStream(memory, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Ustar))
        {
            foreach (var (name, text) in files)
                tar.WriteEntry(new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) });
        }
        return memory.ToArray();
    }
}

using MLCourse.Data;

namespace MLCourse.Tests.Data;

public class SentimentSentencesTests
{
    // Reference values read with python3 (split on the last tab): 1000 rows, 500 per label in each file,
    // and the two lines around the unbalanced quote of imdb_labelled.txt (rows 19-20).
    [SkippableTheory]
    [InlineData(SentimentSource.Imdb, "A very, very, very slow-moving, aimless movie")]
    [InlineData(SentimentSource.Amazon, "So there is no way for me to plug it in here in the US")]
    [InlineData(SentimentSource.Yelp, "Wow... Loved this place.")]
    public void Each_file_gives_1000_balanced_rows(SentimentSource source, string firstText)
    {
        string? folder = TestData.Folder(SentimentSentences.Name);
        Skip.If(folder is null, TestData.SkipReason(SentimentSentences.Name));
        var set = SentimentSentences.Load(source, folder);
        Assert.Equal(1000, set.Count);
        Assert.Equal(500, set.Labels.Count(l => l == 1));
        Assert.StartsWith(firstText, set.Texts[0]);
        if (source == SentimentSource.Imdb)
        {
            Assert.EndsWith("a true masterpiece in a sea of faux \"masterpieces.", set.Texts[18]);
            Assert.Equal(1, set.Labels[18]);
            Assert.StartsWith("\" The structure of this film is easily the most tightly", set.Texts[19]);
        }
    }

    [Fact]
    public void Lines_split_on_the_last_tab_and_quotes_are_plain_characters()
    {
        using var dir = new TempFolder();
        string text = string.Concat(Enumerable.Range(0, 998).Select(i => $"sentence {i}\t{i % 2}\n"))
                      + "a \"quote\tthat\topens  \t1\n" + "\" and closes\t0\n\n";
        string path = dir.Text("imdb_labelled.txt", text);
        var set = SentimentSentences.ReadFile(path);
        Assert.Equal(1000, set.Count);
        Assert.Equal("a \"quote\tthat\topens", set.Texts[998]);
        Assert.Equal(1, set.Labels[998]);
        Assert.Equal("\" and closes", set.Texts[999]);
    }

    [Fact]
    public void A_file_without_1000_rows_or_with_a_bad_label_is_refused()
    {
        using var dir = new TempFolder();
        var error = Assert.Throws<DataSetException>(() => SentimentSentences.ReadFile(dir.Text("yelp_labelled.txt", "good\t1\nbad\t0\n")));
        Assert.Contains("expected 1000", error.Message);
        error = Assert.Throws<DataSetException>(() => SentimentSentences.ReadFile(dir.Text("amazon_cells_labelled.txt", "good\t1\nno label here\n")));
        Assert.Contains("line 2", error.Message);
        Assert.Contains("amazon_cells_labelled.txt", error.Message);
    }
}

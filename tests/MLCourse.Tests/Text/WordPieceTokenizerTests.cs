using MLCourse.Data;
using MLCourse.Text;

namespace MLCourse.Tests.Text;

public class WordPieceTokenizerTests
{
    private static readonly string[] Toy =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "!", "the", "movie", "was", "great", "cafe", ",", "##s", "runn", "##ing", "好"];

    [Fact]
    public void Words_are_cut_greedily_into_the_longest_pieces_and_unknown_words_become_unk()
    {
        var tokenizer = new WordPieceTokenizer(Toy);
        Assert.Equal(["un", "##aff", "##able", "!"], tokenizer.Tokenize("UnAffable!"));
        Assert.Equal(["the", "movie", "##s", ",", "runn", "##ing"], tokenizer.Tokenize("the\tmovies,\n running"));
        Assert.Equal(["[UNK]", "was", "great"], tokenizer.Tokenize("unaffablex was great"));    // no piece for "x": the whole word
        Assert.Equal(["cafe", "好", "[UNK]"], tokenizer.Tokenize("Café好不"));                    // accents stripped, CJK split
        Assert.Equal([5, 6, 7], tokenizer.Encode("unaffable"));
        Assert.Equal("unaffable ! the", tokenizer.Decode([2, 5, 6, 7, 8, 9, 3, 0, 0]));
        Assert.Equal((0, 1, 2, 3, 4), (tokenizer.PadId, tokenizer.UnkId, tokenizer.ClsId, tokenizer.SepId, tokenizer.MaskId));
    }

    [SkippableFact]
    public void The_bert_base_uncased_vocabulary_gives_bert_ids()
    {
        WordPieceTokenizer tokenizer;
        try { tokenizer = WordPieceTokenizer.Load(); }
        catch (DataSetException e) { Skip.If(true, e.Message); return; }
        Assert.Equal(30522, tokenizer.VocabSize);
        Assert.Equal((0, 100, 101, 102, 103), (tokenizer.PadId, tokenizer.UnkId, tokenizer.ClsId, tokenizer.SepId, tokenizer.MaskId));
        // Ids as bert-base-uncased's tokenizer gives them ("hello" 7592, "world" 2088, "!" 999, "the" 1996).
        Assert.Equal([7592, 1010, 2088, 999], tokenizer.Encode("Hello, WORLD!"));
        Assert.Equal(1996, tokenizer.Id("the"));
        Assert.Equal(["this", "movie", "was", "un", "##watch", "##able"], tokenizer.Tokenize("This movie was unwatchable"));
    }
}

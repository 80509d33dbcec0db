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

    private static readonly string[] Paths =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##a", "\U0001F600", "##\U0001F600", "the", "movie", "themovie",
         "$", "5", "##€", "¿", "que", "—", "`", "^", "x"];

    [Fact]
    public void The_100_character_limit_counts_code_points_not_utf16_units()
    {
        var tokenizer = new WordPieceTokenizer(Paths);
        var hundred = tokenizer.Tokenize(new string('a', 100));
        Assert.Equal(100, hundred.Count);
        Assert.Equal(["a", "##a"], hundred.Take(2));
        Assert.Equal(["[UNK]"], tokenizer.Tokenize(new string('a', 101)));
        // 51 emoji: 51 code points but 102 UTF-16 units; BERT (Python's len) counts 51, so the word is cut, not [UNK].
        string emoji = string.Concat(Enumerable.Repeat("\U0001F600", 51));
        Assert.Equal(102, emoji.Length);
        var pieces = tokenizer.Tokenize(emoji);
        Assert.Equal(51, pieces.Count);
        Assert.Equal(["\U0001F600", "##\U0001F600"], pieces.Take(2));
        Assert.Equal(["[UNK]"], tokenizer.Tokenize(string.Concat(Enumerable.Repeat("\U0001F600", 101))));
    }

    [Fact]
    public void Control_and_format_characters_are_removed_and_other_whitespace_splits()
    {
        var tokenizer = new WordPieceTokenizer(Paths);
        // NUL, U+FFFD, a C1 control (U+0096, what cp1252's en dash becomes when misdecoded, common in IMDB) and a
        // zero-width space (Cf) vanish, joining their neighbours, as BERT's _clean_text does.
        Assert.Equal(["themovie"], tokenizer.Tokenize("the\u0000movie"));
        Assert.Equal(["themovie"], tokenizer.Tokenize("the\uFFFDmovie"));
        Assert.Equal(["themovie"], tokenizer.Tokenize("the\u0096movie"));
        Assert.Equal(["themovie"], tokenizer.Tokenize("the\u200Bmovie"));
        // Tab, newline, carriage return and any space separator (no-break space, U+3000) split words.
        Assert.Equal(["the", "movie", "the", "movie", "the"], tokenizer.Tokenize("the\tmovie\r\nthe\u00A0movie\u3000the"));
        Assert.Empty(tokenizer.Tokenize(" \u0000\t\u200B "));
    }

    [Fact]
    public void Punctuation_is_every_ascii_symbol_and_unicode_p_categories_but_not_other_symbols()
    {
        var tokenizer = new WordPieceTokenizer(Paths);
        // ASCII $ ` ^ are symbols (Sc, Sk), yet BERT treats all non-alphanumeric ASCII as punctuation: split off.
        Assert.Equal(["$", "5", "`", "x", "^", "x"], tokenizer.Tokenize("$5`x^x"));
        // ¿ (Po) and — (Pd) are punctuation; € (Sc, not ASCII) is not, so "5€" stays one word: 5 ##€.
        Assert.Equal(["¿", "que", "—", "x"], tokenizer.Tokenize("¿que—x"));
        Assert.Equal(["5", "##€"], tokenizer.Tokenize("5€"));
    }
}

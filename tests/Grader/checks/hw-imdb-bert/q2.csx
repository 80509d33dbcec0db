// Checks of hw-imdb-bert.q2, MaskTokens(ids, tokenizer, probability) (3 points), on a large random batch of
// [CLS] … [SEP] [PAD]… rows with some [UNK]s inside. The rates are checked statistically: 1,000 rows of 100 to 130 real
// tokens on average leave at least about 98,000 maskable tokens, so the standard deviation of the picked fraction is
// about 0.0011 at 15 % (0.0014 at 25 %), and with about 15,000 or more picked tokens that of each 80/10/10 share is at
// most 0.0033; the tolerances (0.01 and 0.02) are more than 6 standard deviations wide.
using MLCourse.Grading;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-imdb-bert.q2", Points = 3)]
sealed class MaskTokensCheck(Func<Tensor, WordPieceTokenizer, double, (Tensor Inputs, Tensor Labels)> MaskTokens) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        var tokenizer = WordPieceTokenizer.Load();
        torch.manual_seed(grade.Seed);
        int rows = 1000, length = grade.Random.Next(200, 260);
        double probability = grade.Random.Next(0, 2) == 0 ? 0.15 : 0.25;
        var ids = torch.randint(1000, tokenizer.VocabSize, new long[] { rows, length }, dtype: ScalarType.Int64);
        var lengths = torch.randint(3, length + 1, new long[] { rows }, dtype: ScalarType.Int64);
        var positions = torch.arange(length, dtype: ScalarType.Int64).unsqueeze(0);
        var real = positions.lt(lengths.unsqueeze(1));
        ids = torch.where(real, ids, torch.full_like(ids, tokenizer.PadId));
        ids = torch.where(positions.eq(lengths.unsqueeze(1) - 1), torch.full_like(ids, tokenizer.SepId), ids);
        ids[TensorIndex.Colon, 0] = torch.tensor((long)tokenizer.ClsId);
        ids = torch.where(torch.rand(rows, length).lt(0.01).logical_and(ids.gt(999)), torch.full_like(ids, tokenizer.UnkId), ids);
        var special = ids.lt(1000);                      // every special id is below 1000 in this vocabulary; real tokens were drawn above
        var original = ids.clone();
        string call = $"MaskTokens(ids [{rows}, {length}], tokenizer, probability: {probability})";

        Tensor? inputs = null, labels = null;
        grade.Part("labels, unpicked tokens and special tokens", 1, () =>
        {
            var result = MaskTokens(ids, tokenizer, probability);
            // every part runs in its own dispose scope: keep the student's tensors for the next parts
            inputs = result.Inputs?.DetachFromDisposeScope(); labels = result.Labels?.DetachFromDisposeScope();
            Expect.Shape(inputs, [rows, length], $"{call}: Inputs");
            Expect.Shape(labels, [rows, length], $"{call}: Labels");
            Expect.That(inputs.dtype == ScalarType.Int64 && labels.dtype == ScalarType.Int64, $"{call}: Inputs and Labels must be int64 tensors.");
            Expect.That(ids.eq(original).all().item<bool>(), $"{call} changed its argument ids: work on copies (torch.where, clone).");
            var picked = labels.ne(-100);
            Expect.That(picked.logical_and(special).sum().item<long>() == 0,
                $"{call}: a special token ([PAD], [UNK], [CLS], [SEP] or [MASK]) was picked (its label is not −100). Exclude tokenizer.SpecialIds.");
            Expect.That(inputs.ne(ids).logical_and(picked.logical_not()).sum().item<long>() == 0,
                $"{call}: some tokens that were not picked (label −100) were changed in Inputs. Only picked tokens may change; special tokens and padding never.");
            Expect.That(labels.eq(ids).logical_or(picked.logical_not()).all().item<bool>(),
                $"{call}: at a picked position the label must be the ORIGINAL id (before masking), elsewhere −100.");
            Expect.That(inputs.ge(0).logical_and(inputs.lt(tokenizer.VocabSize)).all().item<bool>(),
                $"{call}: Inputs has ids outside 0 … VocabSize − 1.");
        });

        grade.Part($"about {probability:P0} of the ordinary tokens are picked", 1, () =>
        {
            Expect.That(labels is not null, "MaskTokens did not run (see the first part).");
            double maskable = special.logical_not().sum().item<long>();
            double rate = labels!.ne(-100).sum().item<long>() / maskable;
            long specialPicked = labels.ne(-100).logical_and(special).sum().item<long>();
            if (specialPicked > 0 && Math.Abs(rate - probability) > 0.01)
                Expect.Fail($"{call}: {rate:P1} of the ordinary tokens' count were picked, expected {probability:P0}: {specialPicked} special tokens "
                            + "([PAD], [CLS], [SEP], [UNK]) were picked too. Exclude tokenizer.SpecialIds before drawing.");
            Expect.Close(rate, probability, $"{call}: fraction of the ordinary tokens picked", 0.01,
                hint: "Pick every non-special token independently with the given probability (torch.rand(ids.shape) < probability), and only those.");
        });

        grade.Part("80 % [MASK], 10 % random, 10 % kept", 1, () =>
        {
            Expect.That(labels is not null, "MaskTokens did not run (see the first part).");
            var picked = labels!.ne(-100);
            double n = picked.sum().item<long>();
            Expect.That(n > 0, $"{call}: nothing was picked.");
            double masked = inputs!.eq(tokenizer.MaskId).logical_and(picked).sum().item<long>() / n;
            double kept = inputs.eq(ids).logical_and(picked).sum().item<long>() / n;
            double other = 1 - masked - kept;
            string split = $"of the picked tokens {masked:P1} became [MASK], {other:P1} another token, {kept:P1} stayed";
            if (masked > 0.97)
                Expect.Fail($"{call}: {split}: every picked token became [MASK]. BERT replaces 80 % of them by [MASK], 10 % by a random id "
                            + "and keeps 10 %, so the model cannot tell from [MASK] alone which tokens to predict.");
            if (kept > 0.97)
                Expect.Fail($"{call}: {split}: no picked token was changed in Inputs (only the labels were set); 80 % must become [MASK], 10 % a random id.");
            Expect.That(Math.Abs(masked - 0.8) < 0.02 && Math.Abs(other - 0.1) < 0.02 && Math.Abs(kept - 0.1) < 0.02,
                $"{call}: {split}; expected 80 %, 10 % and 10 % (±2 %). Draw one uniform number per picked token: below 0.8 → [MASK], 0.8–0.9 → a random id, above 0.9 → unchanged.");
        });
    }
}

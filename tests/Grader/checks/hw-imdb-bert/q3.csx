// Checks of hw-imdb-bert.q3, SentimentClassifier.forward(ids, mask) (3 points), on a small random BERT in eval() mode:
// the output shape, invariance to the ids at padded positions, and the same logits for a review alone and padded.
using MLCourse.Grading;
using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-imdb-bert.q3", Points = 3)]
sealed class ClassifierForwardCheck : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);
        var config = new BertConfig(VocabSize: 200, Hidden: 32, Layers: 2, Heads: 2, Intermediate: 64, MaxPositions: 64);
        var model = new SentimentClassifier(new Bert(config), 2);
        model.eval();
        int batch = grade.Random.Next(3, 7), length = grade.Random.Next(12, 30);
        var lengths = Enumerable.Range(0, batch).Select(i => i == 0 ? length : grade.Random.Next(3, length)).ToArray();
        var ids = torch.randint(5, 200, new long[] { batch, length }, dtype: ScalarType.Int64);
        var mask = torch.zeros(batch, length, dtype: ScalarType.Int64);
        for (int row = 0; row < batch; row++)
        {
            mask[row, TensorIndex.Slice(0, lengths[row])] = torch.tensor(1L);
            ids[row, TensorIndex.Slice(lengths[row])] = torch.tensor(0L);
        }
        string call = $"forward on {batch} sequences of length {length} (real lengths {string.Join(", ", lengths)})";
        using var noGrad = torch.no_grad();

        Tensor? logits = null;
        grade.Part("shape [B, 2]", 1, () =>
        {
            logits = model.call(ids, mask).DetachFromDisposeScope();      // parts run in their own dispose scopes
            Expect.Shape(logits, [batch, 2], call);
        });

        grade.Part("padded positions are ignored", 1, () =>
        {
            Expect.That(logits is not null, "forward did not run (see the first part).");
            var changed = torch.where(mask.eq(1), ids, torch.randint(5, 200, ids.shape, dtype: ScalarType.Int64));
            Expect.Close(model.call(changed, mask), logits!, $"{call}, with random ids at the padded positions: the logits",
                atol: 1e-5, rtol: 1e-4,
                hint: Mistake(model, ids, mask, logits!) ?? "The padded positions' hidden states depend on their ids: the pooled mean must weight them by the mask (0), "
                      + "i.e. sum(h·m)/sum(m) over t, not mean(h) over all positions.");
        });

        grade.Part("a review alone gives the same logits as in a padded batch", 1, () =>
        {
            Expect.That(logits is not null, "forward did not run (see the first part).");
            int row = Enumerable.Range(1, batch - 1).First(r => lengths[r] < length);
            var alone = model.call(ids.narrow(0, row, 1).narrow(1, 0, lengths[row]), mask.narrow(0, row, 1).narrow(1, 0, lengths[row]));
            Expect.Close(alone, logits!.narrow(0, row, 1), $"row {row} (length {lengths[row]}) alone, without padding, against the padded batch: the logits",
                atol: 1e-5, rtol: 1e-4,
                hint: Mistake(model, ids, mask, logits!) ?? "Divide by the number of real tokens of each row (mask.sum over t), not by the padded length T.");
        });
    }

    /// <summary>
    /// The typical wrong poolings (each a mutation of the solution), computed with the student's own encoder and linear head
    /// on the same batch (eval mode, so dropout is the identity): the message of the one whose logits the student's match, or null.
    /// </summary>
    private static string? Mistake(nn.Module<Tensor, Tensor, Tensor> model, Tensor ids, Tensor mask, Tensor logits)
    {
        using var scope = torch.NewDisposeScope();
        var encoder = model.modules().OfType<Bert>().FirstOrDefault();
        var head = model.modules().OfType<TorchSharp.Modules.Linear>().LastOrDefault(l => l.weight.shape[0] == logits.shape[^1]);
        if (encoder is null || head is null || head.weight.shape[1] != encoder.Config.Hidden) return null;
        var w = mask.to(ScalarType.Float32).unsqueeze(-1);                                   // [B, T, 1]
        Tensor Masked(Tensor h) => (h * w).sum(1) / w.sum(1).clamp_min(1);
        var withMask = encoder.call(ids, mask);
        var noMask = encoder.call(ids, torch.ones_like(mask));
        const string NoMask = "the encoder was called without the attention mask, so every token also attends to the [PAD] positions: pass the mask, Encoder.call(ids, mask).";
        var candidates = new (string Message, Tensor Logits)[]
        {
            ("the pooled mean includes the [PAD] positions (a plain mean over all T positions): weight the hidden states by the mask, sum(h·m)/sum(m) over t.",
             head.call(withMask.mean([1]))),
            ("the masked sum is divided by the padded length T, not by the number of real tokens of each row (mask.sum over t).",
             head.call((withMask * w).sum(1) / ids.shape[1])),
            (NoMask, head.call(Masked(noMask))),
            (NoMask, head.call(noMask.mean([1]))),
            ("the output is the head applied to the last position, which is [PAD] in a padded row: pool the real tokens (the mean over the mask).",
             head.call(withMask.select(1, -1))),
        };
        if (torch.allclose(logits, head.call(Masked(withMask)), rtol: 1e-4, atol: 1e-5)) return null;
        foreach (var (message, candidate) in candidates)
            if (candidate.shape.SequenceEqual(logits.shape) && torch.allclose(logits, candidate, rtol: 1e-4, atol: 1e-5))
                return "Your logits are those of a classifier where " + message;
        return null;
    }
}

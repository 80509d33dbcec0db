// Checks of hw-tiny-gpt.q1, CausalMask, NextTokenLoss and the pre-trained `gpt` (4 points). Compiled by the grader as a
// continuation of the student's notebook session; the constructor receives the student's members of the same name.
// References: the lower-triangular pattern; cross-entropy of logits[:, t] against ids[:, t + 1]; the library's
// Gpt.Loss on the grader's own model and windows of the real text; the held-out loss measured here.
using MLCourse.Data;
using MLCourse.Grading;
using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-tiny-gpt.q1", Points = 4)]
sealed class NextTokenCheck(Func<long, Tensor> CausalMask, Func<Tensor, Tensor, Tensor> NextTokenLoss, Gpt? gpt) : QuestionCheck
{
    /// <summary>Held-out loss bars (nats/character) for full and half points; the unigram entropy of the text is 3.03.</summary>
    public static (double Full, double Half) Bars(bool quick) => quick ? (2.75, 2.95) : (2.30, 2.50);

    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("causal mask", 1, () =>
        {
            long length = grade.Random.Next(2, 13);
            var mask = CausalMask(length);
            Expect.Shape(mask, [length, length], $"CausalMask({length})");
            Expect.That(mask.dtype == ScalarType.Bool, $"CausalMask({length}) has dtype {mask.dtype}; expected Bool (true = may attend).");
            var expected = torch.ones(length, length).tril();
            Expect.Close(mask.to(ScalarType.Float32), expected, $"CausalMask({length}) (1 = true)", 0, 0,
                "Row t is the query, column s the key: true on and below the diagonal (s ≤ t), false above it (the future).");
        });

        grade.Part("next-token loss on random logits", 1, () =>
        {
            long B = grade.Random.Next(2, 6), T = grade.Random.Next(3, 12), V = grade.Random.Next(5, 30);
            var logits = torch.randn(B, T, V) * 2;
            var ids = torch.randint(0, V, [B, T], dtype: ScalarType.Int64);
            var expected = nn.functional.cross_entropy(logits.narrow(1, 0, T - 1).reshape(-1, V), ids.narrow(1, 1, T - 1).reshape(-1));
            var loss = NextTokenLoss(logits, ids);
            Expect.That(loss.numel() == 1, $"NextTokenLoss returned {loss.numel()} values; expected one number (the mean).");
            Expect.Close(loss.item<float>(), expected.item<float>(), $"NextTokenLoss(logits [{B}, {T}, {V}], ids [{B}, {T}])", 1e-4,
                "Pair logits[:, t] with ids[:, t + 1] for t = 0 … T − 2 (drop the last position's logits and the first id), then average.");
        });

        grade.Part("next-token loss of the grader's GPT on real text", 1, () =>
        {
            var (characters, text) = Text();
            int T = grade.Random.Next(12, 33), B = grade.Random.Next(4, 9);
            var model = new Gpt(new GptConfig(characters.Count, Hidden: 32, Layers: 1, Heads: 2, Intermediate: 64, Context: 32, Dropout: 0));
            model.eval();
            var starts = torch.randint(0, text.shape[0] - T, [B], dtype: ScalarType.Int64);
            var ids = text.index_select(0, (starts.unsqueeze(1) + torch.arange(T).unsqueeze(0)).reshape(-1)).reshape(B, T);
            using var noGrad = torch.no_grad();
            var expected = model.Loss(ids).item<float>();
            Expect.Close(NextTokenLoss(model.call(ids), ids).item<float>(), expected,
                $"NextTokenLoss on {B} windows of {T} characters of the sentences, with the grader's GPT", 1e-4,
                "Gpt.Loss(ids) is the reference: mean cross-entropy of predicting ids[:, t + 1] from the output at t.");
        });

        grade.Part("held-out loss of your pre-trained gpt", 1, () =>
        {
            Expect.That(gpt is not null, "`gpt` is null: the pre-training cell did not create the model.");
            var (characters, text) = Text();
            Expect.That(gpt!.Config.VocabSize == characters.Count,
                $"`gpt` has a vocabulary of {gpt.Config.VocabSize}; the sentences have {characters.Count} distinct characters. Keep the text cell as given.");
            long cut = text.shape[0] * 9 / 10;
            var valid = text.narrow(0, cut, text.shape[0] - cut);
            int window = Math.Min(32, gpt.Config.Context);
            var starts = torch.arange(0, valid.shape[0] - window, window);
            var windows = valid.index_select(0, (starts.unsqueeze(1) + torch.arange(window).unsqueeze(0)).reshape(-1)).reshape(-1, window);
            gpt.eval();
            double loss;
            using (torch.no_grad())
            {
                var logits = gpt.call(windows);
                loss = nn.functional.cross_entropy(logits.narrow(1, 0, window - 1).reshape(-1, characters.Count),
                                                   windows.narrow(1, 1, window - 1).reshape(-1)).item<float>();
            }
            var (full, half) = Bars(grade.Quick);
            string bars = $"required ≤ {full:F2} for full and ≤ {half:F2} for half the point{(grade.Quick ? " (quick mode)" : "")}";
            string reached = $"held-out loss {loss:F3} nats/character on {windows.shape[0]} windows of the last 10 % of the text (measured by the grader)";
            if (loss <= full) return (1.0, $"{reached}; {bars}.");
            if (loss <= half) return (0.5, $"{reached}: above the full bar; {bars}. Train longer or tune the learning rate.");
            return (0.0, $"{reached}; {bars}. Check NextTokenLoss, then that the training loop steps the optimizer.");
        });
    }

    /// <summary>The notebook's text: all sentences lower-cased, joined by newlines; the sorted characters; the ids.</summary>
    private static (List<char> Characters, Tensor Ids) Text()
    {
        string corpus = string.Join("\n", SentimentSentences.LoadAll().Texts.Select(s => s.ToLowerInvariant()));
        var characters = corpus.Distinct().Order().ToList();
        var id = characters.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i);
        return (characters, torch.tensor(corpus.Select(c => id[c]).ToArray()));
    }
}

// Checks of hw-tiny-gpt.q2, NextTokenDistribution (3 points). Compiled by the grader as a continuation of the student's
// notebook session; the constructor receives the student's function of the same name as a typed delegate.
// Reference: softmax(topk(logits).values / T) scattered back to the top-k indices, 0 elsewhere.
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-tiny-gpt.q2", Points = 3)]
sealed class SamplingCheck(Func<Tensor, double, int, Tensor> NextTokenDistribution) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("matches the reference for random T and k", 1, () =>
        {
            long B = grade.Random.Next(2, 7), V = grade.Random.Next(8, 41);
            int k = grade.Random.Next(2, (int)V / 2 + 1);          // at most half the tokens: the dropped ones carry real probability
            double T = Math.Round(0.3 + 1.7 * grade.Random.NextDouble(), 3);
            var logits = torch.randn(B, V) * 2;
            var (values, indices) = logits.topk(k, dim: -1);
            var expected = torch.zeros_like(logits).scatter(-1, indices, (values / T).softmax(-1));
            var p = NextTokenDistribution(logits, T, k);
            Expect.Shape(p, [B, V], $"NextTokenDistribution(logits [{B}, {V}], {T}, {k})");
            Expect.Close(p.to(ScalarType.Float32), expected, $"NextTokenDistribution(logits, temperature {T}, topK {k})", 1e-6, 1e-4,
                "Keep the k largest logits, divide them by T, softmax over those k only (renormalised); all others get 0.");
        });

        grade.Part("top-k keeps exactly k tokens, the k most likely", 1, () =>
        {
            long B = grade.Random.Next(2, 7), V = grade.Random.Next(10, 41);
            int k = grade.Random.Next(1, (int)V / 2);
            var logits = torch.randn(B, V);
            var p = NextTokenDistribution(logits, 1.0, k).to(ScalarType.Float32);
            Expect.Shape(p, [B, V], $"NextTokenDistribution(logits [{B}, {V}], 1.0, {k})");
            var kept = p.gt(0).sum(1);
            Expect.Close(kept.to(ScalarType.Float32), torch.full(B, k, dtype: ScalarType.Float32), $"non-zero probabilities per row with topK = {k}", 0, 0,
                "Exactly topK tokens per row may keep a probability above 0.");
            var topMask = torch.zeros(B, V).scatter(-1, logits.topk(k, dim: -1).indexes, torch.ones(B, k));
            Expect.Close(p.gt(0).to(ScalarType.Float32), topMask, "which tokens keep a probability (1 = kept)", 0, 0,
                "The kept tokens are those with the k LARGEST logits.");
            Expect.Close(p.sum(1), torch.ones(B), "each row's sum", 1e-5, 0, "Renormalise over the kept tokens: every row sums to 1.");
        });

        grade.Part("a tiny temperature gives the argmax", 1, () =>
        {
            long B = grade.Random.Next(2, 7), V = grade.Random.Next(8, 41);
            var logits = torch.randn(B, V);
            var best = logits.argmax(-1);
            logits = logits + nn.functional.one_hot(best, V).to(ScalarType.Float32) * 0.5;      // a clear winner per row
            var expected = nn.functional.one_hot(best, V).to(ScalarType.Float32);
            foreach (int k in new[] { (int)V, 3 })
            {
                var p = NextTokenDistribution(logits, 1e-4, k).to(ScalarType.Float32);
                Expect.That(!p.isnan().any().item<bool>(), $"NextTokenDistribution(logits, 1e-4, {k}) contains NaN: "
                    + "softmax subtracts the maximum for you; divide the logits by T and call softmax, do not exponentiate by hand.");
                Expect.Close(p, expected, $"NextTokenDistribution(logits, temperature 1e-4, topK {k})", 1e-4, 0,
                    "As T → 0 the distribution becomes one-hot on the argmax (greedy decoding).");
            }
        });
    }
}

// Checks of hw-tiny-gpt.q3, BradleyTerryLoss and the trained `Reward` (4 points). Compiled by the grader as a
// continuation of the student's notebook session; the constructor receives the student's members of the same name.
// References: mean(−log σ(r_w − r_l)) computed with logsigmoid; pairs of 24-character windows of the HELD-OUT text,
// drawn here and labelled by the reader's rule (larger share of vowels preferred, ties dropped).
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-tiny-gpt.q3", Points = 4)]
sealed class RewardModelCheck(Func<Tensor, Tensor, Tensor> BradleyTerryLoss, Func<Tensor, Tensor> Reward) : QuestionCheck
{
    /// <summary>Held-out pair accuracy for full and half points (the solution ranks about 99 % right).</summary>
    public static (double Full, double Half) Bars => (0.93, 0.80);

    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("loss formula on random rewards", 1, () =>
        {
            long n = grade.Random.Next(5, 50);
            var (w, l) = (torch.randn(n) * 3, torch.randn(n) * 3);
            var loss = BradleyTerryLoss(w, l);
            Expect.That(loss.numel() == 1, $"BradleyTerryLoss returned {loss.numel()} values; expected one number (the mean over pairs).");
            Expect.Close(loss.item<float>(), (-nn.functional.logsigmoid(w - l).mean()).item<float>(), $"BradleyTerryLoss on {n} pairs", 1e-4,
                "−log σ(r_preferred − r_rejected), averaged: the preferred answer's reward comes first.");
        });

        grade.Part("stable at margins of ±200", 1, () =>
        {
            var w = torch.tensor(new float[] { 200, 0, -100, 3 });
            var l = torch.tensor(new float[] { 0, 200, 100, 3 });
            double expected = (0 + 200 + 200 + Math.Log(2)) / 4;
            var loss = BradleyTerryLoss(w, l).item<float>();
            Expect.That(double.IsFinite(loss), $"BradleyTerryLoss at margins +200, −200, −200, 0 is {loss}; expected {expected:F4}. "
                + "log(sigmoid(x)) underflows to log 0 = −∞ for x = −200; use nn.functional.logsigmoid (or −softplus(−x)).");
            Expect.Close(loss, expected, "BradleyTerryLoss at margins +200, −200, −200, 0", 1e-3,
                "−log σ(m) ≈ −m for very negative m and ≈ 0 for very positive m.");
        });

        grade.Part("your Reward ranks held-out pairs the reader's way", 2, () =>
        {
            string corpus = string.Join("\n", SentimentSentences.LoadAll().Texts.Select(s => s.ToLowerInvariant()));
            var characters = corpus.Distinct().Order().ToList();
            var id = characters.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i);
            var text = torch.tensor(corpus.Select(c => id[c]).ToArray());
            long cut = text.shape[0] * 9 / 10;
            var valid = text.narrow(0, cut, text.shape[0] - cut);
            const int length = 24, draws = 1_000;
            var starts = torch.randint(0, valid.shape[0] - length, [2 * draws], dtype: ScalarType.Int64);
            var windows = valid.index_select(0, (starts.unsqueeze(1) + torch.arange(length).unsqueeze(0)).reshape(-1)).reshape(2 * draws, length);
            var vowels = torch.tensor("aeiou".Select(c => id[c]).ToArray());
            var share = torch.isin(windows, vowels).to(ScalarType.Float32).mean([1]);
            var (a, b) = (windows.narrow(0, 0, draws), windows.narrow(0, draws, draws));
            var (shareA, shareB) = (share.narrow(0, 0, draws), share.narrow(0, draws, draws));
            var untied = shareA.ne(shareB);
            Tensor rA, rB;
            using (torch.no_grad()) { rA = Reward(a); rB = Reward(b); }
            Expect.Shape(rA, [draws], $"Reward(ids [{draws}, {length}])");
            var right = rA.gt(rB).eq(shareA.gt(shareB)).logical_and(untied).sum().item<long>();
            long pairs = untied.sum().item<long>();
            double accuracy = right / (double)pairs;
            var (full, half) = Bars;
            string reached = $"{accuracy:P1} of {pairs} fresh held-out pairs ranked the reader's way";
            string bars = $"required ≥ {full:P0} for full and ≥ {half:P0} for half points";
            if (accuracy >= full) return (1.0, $"{reached}; {bars}.");
            if (accuracy >= half) return (0.5, $"{reached}: below the full bar; {bars}. Train the reward model longer.");
            return (0.0, $"{reached}; {bars}. Check BradleyTerryLoss (preferred first) and that the training loop steps the optimizer.");
        });
    }
}

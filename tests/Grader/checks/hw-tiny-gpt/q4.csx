// Checks of hw-tiny-gpt.q4, ReinforceKlLoss and the fine-tuned `policy` (4 points). Compiled by the grader as a
// continuation of the student's notebook session; the constructor receives the student's members of the same name.
// References: −mean((R − mean R)·log π_θ) with R = r − β(log π_θ − log π_ref) detached, its gradient −(R − mean R)/B;
// 256 answers sampled here from `policy` and from `gpt` (T = 1, all tokens, after a newline), scored by the reader's
// rule (share of vowels) and by the KL estimate mean(log π_θ(y) − log π_ref(y)) over the policy's answers.
using MLCourse.Data;
using MLCourse.Grading;
using MLCourse.Models;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-tiny-gpt.q4", Points = 4)]
sealed class RlhfCheck(Func<Tensor, Tensor, Tensor, double, Tensor> ReinforceKlLoss, Gpt? policy, Gpt? gpt) : QuestionCheck
{
    /// <summary>
    /// Least rise of the vowel share (policy − reference) and largest KL estimate (nats per 24 characters). The solution
    /// (β = 0.3) ends near +0.15 with KL ≈ 6.6 in both modes (the notebook's last 10 steps); without the penalty (β = 0) the KL
    /// reached 43 (quick) and 118 (full), with β = 0.2 it reached 11.6 (quick) and 14.4 (full).
    /// </summary>
    public static (double Rise, double Kl) Bars(bool quick) => quick ? (0.08, 12.0) : (0.10, 12.0);

    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);
        long B = grade.Random.Next(8, 65);
        double beta = Math.Round(0.01 + 0.5 * grade.Random.NextDouble(), 3);
        var logPolicyValues = torch.randn(B) * 5 - 30;
        var logReference = logPolicyValues + torch.randn(B);
        var reward = torch.randn(B);
        var total = reward - beta * (logPolicyValues - logReference);
        var advantage = total - total.mean();
        string call = $"ReinforceKlLoss on {B} answers with β = {beta}";

        grade.Part("loss value", 1, () =>
        {
            var loss = ReinforceKlLoss(logPolicyValues.clone().requires_grad_(), logReference, reward, beta);
            Expect.That(loss.numel() == 1, $"{call} returned {loss.numel()} values; expected one number.");
            Expect.Close(loss.item<float>(), (-(advantage * logPolicyValues).mean()).item<float>(), call, 1e-3 + 1e-4 * Math.Abs(loss.item<float>()),
                "R = reward − β·(log π_θ − log π_ref); loss = −mean((R − mean R)·log π_θ): minus sign in front, baseline = the batch mean of R.");
        });

        grade.Part("gradient with respect to logPolicy", 1, () =>
        {
            var logPolicy = logPolicyValues.clone().requires_grad_();
            ReinforceKlLoss(logPolicy, logReference, reward, beta).backward();
            Expect.That(logPolicy.grad is not null, "no gradient reached logPolicy: the loss must be built from it.");
            Expect.Close(logPolicy.grad!, -advantage / B, $"∂loss/∂logPolicy for {call}", 1e-6, 1e-4,
                "The gradient is −(R − mean R)/B: R and its mean carry no gradient (use logPolicy.detach() inside R), "
                + "and answers with above-average R get a negative gradient (their probability rises as the loss falls).");
        });

        // Plain numbers, not tensors: each part runs in its own dispose scope, so a tensor kept from the first part that
        // measures would be freed before the second one reads it.
        double? policyShare = null, referenceShare = null, kl = null;
        void Measure()
        {
            if (kl is not null) return;
            Expect.That(policy is not null && gpt is not null, "`policy` or `gpt` is null: the pre-training or the fine-tuning cell did not run.");
            string corpus = string.Join("\n", SentimentSentences.LoadAll().Texts.Select(s => s.ToLowerInvariant()));
            var characters = corpus.Distinct().Order().ToList();
            Expect.That(policy!.Config.VocabSize == characters.Count && gpt!.Config.VocabSize == characters.Count,
                "`policy` and `gpt` must use the notebook's character vocabulary; keep the text cell as given.");
            Expect.That(!ReferenceEquals(policy, gpt), "`policy` is the same object as `gpt`: fine-tune a copy and keep `gpt` as the frozen reference.");
            long newline = characters.IndexOf('\n');
            var vowels = torch.tensor("aeiou".Select(c => (long)characters.IndexOf(c)).ToArray());
            const int length = 24, count = 256;
            Tensor Sample(Gpt model, Generator generator)
            {
                var ids = torch.full(count, 1, newline, dtype: ScalarType.Int64);
                for (int t = 0; t < length; t++)
                    ids = torch.cat([ids, torch.multinomial(model.call(ids).select(1, -1).softmax(-1), 1, generator: generator)], 1);
                return ids;
            }
            Tensor LogProbability(Gpt model, Tensor ids) =>
                model.call(ids.narrow(1, 0, length)).log_softmax(-1).gather(2, ids.narrow(1, 1, length).unsqueeze(2)).squeeze(2).sum(1);
            policy.eval(); gpt!.eval();
            using var noGrad = torch.no_grad();
            var fromPolicy = Sample(policy, new Generator((ulong)grade.Seed + 1));
            var fromReference = Sample(gpt, new Generator((ulong)grade.Seed + 2));
            policyShare = torch.isin(fromPolicy.narrow(1, 1, length), vowels).to(ScalarType.Float32).mean().item<float>();
            referenceShare = torch.isin(fromReference.narrow(1, 1, length), vowels).to(ScalarType.Float32).mean().item<float>();
            kl = (LogProbability(policy, fromPolicy) - LogProbability(gpt, fromPolicy)).mean().item<float>();
        }

        grade.Part("the fine-tuned policy writes more vowels", 1, () =>
        {
            Measure();
            double rise = policyShare!.Value - referenceShare!.Value;
            var (least, _) = Bars(grade.Quick);
            Expect.That(rise >= least,
                $"vowel share of 256 answers sampled by the grader: policy {policyShare:P1}, gpt {referenceShare:P1} "
                + $"(rise {rise:+0.000;-0.000}); required a rise of ≥ {least:F2}{(grade.Quick ? " (quick mode)" : "")}. "
                + "Check the sign of the loss and that the optimizer updates `policy`.");
            return (1.0, $"vowel share {referenceShare:P1} → {policyShare:P1} (rise {rise:F3} ≥ {least:F2}).");
        });

        grade.Part("KL to the reference stays bounded", 1, () =>
        {
            Measure();
            double value = kl!.Value;
            var (_, most) = Bars(grade.Quick);
            Expect.That(value <= most,
                $"estimated KL(policy ‖ gpt) = {value:F2} nats per 24-character answer (256 samples, measured by the grader); required ≤ {most:F1}. "
                + "The KL penalty β·(log π_θ − log π_ref) keeps the policy near the reference: check its sign, β and the number of steps.");
            return (1.0, $"estimated KL(policy ‖ gpt) = {value:F2} nats per answer (≤ {most:F1}).");
        });
    }
}

// Checks of hw-imdb-bert.q5, the fine-tuned pretrained `classifier` (4 points). The grader picks test reviews itself
// (half negative, half positive, fresh each run: 1,000 in full mode, 400 in quick mode), cleans and encodes them as the
// notebook does (head + tail, `maxLength` word pieces) and measures the accuracy of the student's classifier.
// Bars from the reference solution's runs: see Bars.
using MLCourse.Data;
using MLCourse.Grading;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-imdb-bert.q5", Points = 4)]
sealed class FineTunedClassifierCheck(nn.Module<Tensor, Tensor, Tensor>? classifier, int maxLength) : QuestionCheck
{
    /// <summary>
    /// Quick mode (384 reviews of 64 word pieces, 48 steps): the solution reached 67.8 % on the notebook's 500 test reviews (63.4 % with a 5e-4 peak rate, 58.4 % with 256 reviews in 16 steps). Full mode (10,000 reviews
    /// of 256 pieces, one epoch): planned for ≥ 88 % on the full test set; the bars leave room for a weaker but real fine-tuning.
    /// </summary>
    public static (double Full, double Half) Bars(bool quick) => quick ? (0.60, 0.55) : (0.85, 0.80);

    public override void Run(Grade grade)
    {
        grade.Part("held-out accuracy", 4, () =>
        {
            Expect.That(classifier is not null, "`classifier` is null: the training cell did not create the model.");
            Expect.That(maxLength >= 8 && maxLength <= 512, $"maxLength is {maxLength}; keep it between 8 and 512.");
            var (full, half) = Bars(grade.Quick);
            var tokenizer = WordPieceTokenizer.Load();
            var test = Imdb.Load().Test;
            int perClass = grade.Quick ? 200 : 500;
            var negatives = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == 0).OrderBy(_ => grade.Random.Next()).Take(perClass);
            var positives = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == 1).OrderBy(_ => grade.Random.Next()).Take(perClass);
            var pick = negatives.Concat(positives).ToArray();
            var (ids, mask) = Encode(tokenizer, pick.Select(i => test.Texts[i].Replace("<br />", " ")).ToArray(), maxLength);
            var labels = torch.tensor(pick.Select(i => test.Labels[i]).ToArray());
            var model = classifier!;
            model.eval();
            long correct = 0, predictedPositive = 0;
            int batch = 50;
            using (torch.no_grad())
            {
                for (int start = 0; start < pick.Length; start += batch)
                {
                    using var scope = torch.NewDisposeScope();
                    var logits = model.call(ids.narrow(0, start, batch), mask.narrow(0, start, batch));
                    Expect.Shape(logits, [batch, 2], $"classifier's output for a batch of {batch} test reviews");
                    var predicted = logits.argmax(1);
                    correct += predicted.eq(labels.narrow(0, start, batch)).sum().item<long>();
                    predictedPositive += predicted.sum().item<long>();
                }
            }
            double accuracy = correct / (double)pick.Length;
            string bars = $"required ≥ {half:P0} for half and ≥ {full:P0} for full points{(grade.Quick ? " (quick mode)" : "")}";
            string reached = $"accuracy {accuracy:P1} on {pick.Length} held-out test reviews (measured by the grader; {predictedPositive} predicted positive)";
            if (accuracy >= full) return (1.0, $"{reached}; {bars}.");
            if (accuracy >= half) return (0.5, $"{reached}: below the full bar; {bars}. Check the schedule (warm-up, decay) and the learning rate.");
            return (0.0, $"{reached}: below both bars; {bars}. "
                + (predictedPositive is < 50 or > 950 ? "The model predicts (almost) one class only: check the loss, the labels and the learning rate." : "Check the training loop."));
        });
    }

    private static (Tensor Ids, Tensor Mask) Encode(WordPieceTokenizer tokenizer, IReadOnlyList<string> texts, int maxLength)
    {
        var ids = new long[texts.Count, maxLength];
        var mask = new long[texts.Count, maxLength];
        for (int row = 0; row < texts.Count; row++)
        {
            var all = tokenizer.Encode(texts[row]);
            int keep = maxLength - 2, head = keep / 4;
            var pieces = all.Length <= keep ? all : all.Take(head).Concat(all.Skip(all.Length - (keep - head))).ToArray();
            ids[row, 0] = tokenizer.ClsId;
            for (int i = 0; i < pieces.Length; i++) ids[row, i + 1] = pieces[i];
            ids[row, pieces.Length + 1] = tokenizer.SepId;
            for (int i = 0; i < pieces.Length + 2; i++) mask[row, i] = 1;
        }
        return (torch.tensor(ids), torch.tensor(mask));
    }
}

// Checks of hw-imdb-bert.q4, the fine-tuned `classifier` (4 points). The grader picks 1,000 test reviews itself
// (500 negative, 500 positive, fresh each run), cleans and encodes them as the notebook does (`maxLength` word
// pieces) and measures the accuracy of the student's classifier. Bars from the reference solution's runs: 67.9 % and
// 70.0 % in two quick gradings (fresh picks), and 75.8 % / 75.9 % in two full runs (on the notebook's 2,000 test reviews).
using MLCourse.Data;
using MLCourse.Grading;
using MLCourse.Text;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-imdb-bert.q4", Points = 4)]
sealed class FineTunedClassifierCheck(nn.Module<Tensor, Tensor, Tensor>? classifier, int maxLength) : QuestionCheck
{
    /// <summary>Full mode: 20,000 reviews, 3 epochs after 400 MLM steps. Quick mode: 1,200 reviews of 64 word pieces, 2 epochs after 10 MLM steps.</summary>
    public static (double Full, double Half) Bars(bool quick) => quick ? (0.57, 0.53) : (0.70, 0.62);

    public override void Run(Grade grade)
    {
        grade.Part("held-out accuracy", 4, () =>
        {
            Expect.That(classifier is not null, "`classifier` is null: the training cell did not create the model.");
            Expect.That(maxLength >= 8 && maxLength <= 512, $"maxLength is {maxLength}; keep it between 8 and 512.");
            var (full, half) = Bars(grade.Quick);
            var tokenizer = WordPieceTokenizer.Load();
            var test = Imdb.Load().Test;
            var negatives = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == 0).OrderBy(_ => grade.Random.Next()).Take(500);
            var positives = Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == 1).OrderBy(_ => grade.Random.Next()).Take(500);
            var pick = negatives.Concat(positives).ToArray();
            var (ids, mask) = Encode(tokenizer, pick.Select(i => test.Texts[i].Replace("<br />", " ")).ToArray(), maxLength);
            var labels = torch.tensor(pick.Select(i => test.Labels[i]).ToArray());
            var model = classifier!;
            model.eval();
            long correct = 0, predictedPositive = 0;
            using (torch.no_grad())
            {
                for (int start = 0; start < pick.Length; start += 100)
                {
                    using var scope = torch.NewDisposeScope();
                    var logits = model.call(ids.narrow(0, start, 100), mask.narrow(0, start, 100));
                    Expect.Shape(logits, [100, 2], "classifier's output for a batch of 100 test reviews");
                    var predicted = logits.argmax(1);
                    correct += predicted.eq(labels.narrow(0, start, 100)).sum().item<long>();
                    predictedPositive += predicted.sum().item<long>();
                }
            }
            double accuracy = correct / (double)pick.Length;
            string bars = $"required ≥ {half:P0} for half and ≥ {full:P0} for full points{(grade.Quick ? " (quick mode)" : "")}";
            string reached = $"accuracy {accuracy:P1} on {pick.Length} held-out test reviews (measured by the grader; {predictedPositive} predicted positive)";
            if (accuracy >= full) return (1.0, $"{reached}; {bars}.");
            if (accuracy >= half) return (0.5, $"{reached}: below the full bar; {bars}. Train longer or tune the learning rate.");
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
            var pieces = tokenizer.Encode(texts[row]);
            int kept = Math.Min(pieces.Length, maxLength - 2);
            ids[row, 0] = tokenizer.ClsId;
            for (int i = 0; i < kept; i++) ids[row, i + 1] = pieces[i];
            ids[row, kept + 1] = tokenizer.SepId;
            for (int i = 0; i < kept + 2; i++) mask[row, i] = 1;
        }
        return (torch.tensor(ids), torch.tensor(mask));
    }
}

// Checks of hw-mnist-mlp.q2, Accuracy(logits, labels) (2 points). The grader passes the student's function of the
// same name as the constructor's parameter (a typed delegate).
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-mnist-mlp.q2", Points = 2)]
sealed class AccuracyCheck(Func<Tensor, Tensor, double> Accuracy) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        torch.manual_seed(grade.Seed);

        grade.Part("all right and all wrong", 1, () =>
        {
            int n = grade.Random.Next(50, 400), classes = grade.Random.Next(3, 12);
            var logits = torch.randn(n, classes);
            var best = logits.argmax(1);
            var worst = logits.argmin(1);
            double right = Accuracy(logits, best), wrong = Accuracy(logits, worst);
            Expect.Close(right, 1.0, $"Accuracy(logits of shape [{n}, {classes}], labels = the arg-max of each row)", 1e-9, Hint(right, 1.0, n, logits, best));
            Expect.Close(wrong, 0.0, $"Accuracy(logits of shape [{n}, {classes}], labels = the arg-min of each row)", 1e-9, Hint(wrong, 0.0, n, logits, worst));
        });

        grade.Part("random labels", 1, () =>
        {
            for (int trial = 0; trial < 3; trial++)
            {
                int n = grade.Random.Next(50, 400), classes = grade.Random.Next(3, 12);
                var logits = torch.randn(n, classes);
                // About half the labels right, the rest random.
                var labels = torch.where(torch.rand(n).lt(0.5), logits.argmax(1), torch.randint(0, classes, new long[] { n }, dtype: ScalarType.Int64));
                double expected = logits.argmax(1).eq(labels).sum().item<long>() / (double)n;
                double actual = Accuracy(logits, labels);
                Expect.Close(actual, expected, $"Accuracy(logits of shape [{n}, {classes}], {n} labels)", 1e-9, Hint(actual, expected, n, logits, labels));
            }
        });
    }

    private static string Hint(double actual, double expected, int n, Tensor logits, Tensor labels)
    {
        // The typical wrong answers, computed on the same inputs: a match names the mistake.
        double Mean(Tensor hits) => hits.to_type(ScalarType.Float64).mean().item<double>();
        var matched = new List<string>();
        if (Math.Abs(actual - Mean(labels.eq(logits.argmax()))) < 1e-9)
            matched.Add("argmax() without a dimension returns ONE index into the flattened tensor, not one per row: use logits.argmax(1).");
        if (Math.Abs(actual - Mean(logits.argmin(1).eq(labels))) < 1e-9)
            matched.Add("You compare the arg-MIN of each row with the labels: the predicted class is the arg-max, logits.argmax(1).");
        if (Math.Abs(actual - Math.Floor(expected)) < 1e-9)
            matched.Add("Integer division: the count of right rows and N are integers, so their quotient is rounded down to 0 or 1; divide as double.");
        if (matched.Count == 1) return matched[0];
        if (matched.Count > 1) return "One of these mistakes: " + string.Join(" Or: ", matched);
        if (Math.Abs(actual - expected * 100) < 1e-6 && n > 0 && expected > 0)
            return "Return a fraction between 0 and 1, not a percentage.";
        if (Math.Abs(actual - expected * n) < 1e-6 && expected > 0)
            return "Return a fraction between 0 and 1, not the count of right rows: divide by the number of rows N.";
        if (actual > 1.0001) return "Return a fraction between 0 and 1, not a count or a percentage.";
        if (Math.Abs(actual - expected * n / (n - 1)) < 1e-9 || Math.Abs(actual - (expected * n + 1) / n) < 1e-9
            || Math.Abs(actual - (expected * n - 1) / n) < 1e-9 || Math.Abs(actual - expected * n / (n + 1)) < 1e-9)
            return "Off by one sample: divide the number of correct rows by the number of rows N.";
        return "Compare the arg-max over the class dimension (dim 1) with the labels and average over the rows.";
    }
}

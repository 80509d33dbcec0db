// Checks of hw-classic-ml.q1, InformationGain(feature, labels) (3 points). The grader passes the student's function of the same
// name as the constructor's parameter (a typed delegate): `InformationGain` is the student's function, `Entropy` the library's reference.
using MLCourse.Classic;
using MLCourse.Grading;

[Question("hw-classic-ml.q1", Points = 3)]
sealed class InformationGainCheck(Func<long[], long[], double> InformationGain) : QuestionCheck
{
    public override void Run(Grade grade)
    {
        grade.Part("random features and labels", 2, () =>
        {
            for (int trial = 0; trial < 6; trial++)
            {
                int n = grade.Random.Next(5, 80), values = grade.Random.Next(2, 6), classes = grade.Random.Next(2, 5);
                // arbitrary integer codes, not 0..V−1, so a solution that indexes arrays by code fails
                long[] codes = Enumerable.Range(0, values).Select(v => (long)(grade.Random.Next(-50, 50) * 7 + v)).Distinct().ToArray();
                long[] feature = Enumerable.Range(0, n).Select(_ => codes[grade.Random.Next(codes.Length)]).ToArray();
                // class codes are arbitrary integers too (negative ones included), as the homework says
                long labelOffset = trial % 2 == 0 ? 0 : grade.Random.Next(-40, 40) * 5;
                long[] labels = Enumerable.Range(0, n).Select(_ => grade.Random.Next(classes) * 3 + labelOffset).ToArray();
                double expected = Entropy.InformationGain(feature, labels);
                double actual = InformationGain((long[])feature.Clone(), (long[])labels.Clone());
                Expect.Close(actual, expected, $"InformationGain on {n} samples ({codes.Length} feature values, {classes} classes)", 1e-9,
                    Hint(actual, expected, feature, labels));
            }
        });

        grade.Part("edge cases: a constant feature, the label itself, one sample", 1, () =>
        {
            int n = grade.Random.Next(6, 40);
            long[] labels = Enumerable.Range(0, n).Select(i => (long)(i % 3)).OrderBy(_ => grade.Random.Next()).ToArray();
            long[] constant = Enumerable.Repeat(5L, n).ToArray();
            double gain = InformationGain((long[])constant.Clone(), (long[])labels.Clone());
            Expect.Close(gain, 0, $"InformationGain of a feature with one value ({n} samples)", 1e-9,
                Mistake(gain, constant, labels) ?? "A feature with a single value does not split the data, so H(D|A) = H(D) and the gain is 0.");
            double hD = Entropy.Of(labels);
            gain = InformationGain((long[])labels.Clone(), (long[])labels.Clone());
            Expect.Close(gain, hD, $"InformationGain of a feature equal to the label ({n} samples)", 1e-9,
                Mistake(gain, labels, labels) ?? "When the feature determines the label, every part is pure (H(D_i) = 0) and the gain is H(D).");
            Expect.Close(InformationGain([3L], [1L]), 0, "InformationGain of a single sample", 1e-9,
                "One sample has entropy 0 (a class with probability 1 contributes −1·log₂1 = 0); avoid NaN from 0·log 0.");
        });
    }

    private static string Hint(double actual, double expected, long[] feature, long[] labels)
    {
        if (double.IsNaN(actual)) return "NaN: a class or value with count 0 must contribute 0, not 0·log(0).";
        return Mistake(actual, feature, labels)
            ?? "Check the weights |D_i|/|D| of the parts and that H uses the class frequencies within each part; "
            + "feature values and classes are arbitrary integer codes (count them by value, e.g. with GroupBy, not as array indices).";
    }

    /// <summary>The typical wrong gains (each a mutation of the solution), computed on the same data: the one the student's value matches, or null.</summary>
    private static string? Mistake(double actual, long[] feature, long[] labels)
    {
        double expected = Entropy.InformationGain(feature, labels);
        if (Math.Abs(actual - expected) < 1e-9) return null;
        var parts = Enumerable.Range(0, labels.Length).GroupBy(i => feature[i]).Select(g => g.Select(i => labels[i]).ToArray()).ToArray();
        double n = labels.Length;
        static double Gini(long[] part) =>
            1 - part.GroupBy(c => c).Sum(g => Math.Pow(g.Count() / (double)part.Length, 2));
        double giniGain = Gini(labels) - parts.Sum(p => p.Length / n * Gini(p));
        double unweighted = Entropy.Of(labels) - parts.Average(p => Entropy.Of(p));
        if (Math.Abs(actual - expected * Math.Log(2)) < 1e-9) return "That is the gain in nats: use log base 2 (Math.Log2) for bits.";
        if (Math.Abs(actual - Entropy.Conditional(feature, labels)) < 1e-9) return "That is H(D|A); return H(D) − H(D|A).";
        if (Math.Abs(actual - Entropy.GainRatio(feature, labels)) < 1e-9) return "That is the gain ratio; return the plain gain H(D) − H(D|A).";
        if (Math.Abs(actual - giniGain) < 1e-9)
            return "That is the decrease in Gini impurity (1 − Σ p²), not in entropy: H = −Σ p·log₂ p.";
        if (Math.Abs(actual - unweighted) < 1e-9)
            return "That is H(D) minus the plain average of the parts' entropies: the parts are not weighted by their size; weight each H(D_i) by |D_i|/|D|.";
        return null;
    }
}

// Checks of hw-covid-regression.q1, PredictCovid(X) (10 points). Compiled by the grader as a continuation of the
// student's notebook session. The model is graded by its mean squared error on the FIXED validation split of
// Covid.Load(CovidYear.Y2021) (540 rows), against tiered bars calibrated in the homework's prose:
//   plain linear regression on all 93 features (closed form)  MSE 0.9666
//   best ridge regression on 14 selected features             MSE 0.9160 (all 93 features, λ = 1: 0.9405)
//   tuned MLP on the same 14 features (the reference solution, early stopping on a development split of the
//   training rows) MSE 0.9064 (quick mode, 60 epochs: 1.0275)
using MLCourse;
using MLCourse.Data;
using MLCourse.Grading;
using TorchSharp;
using static TorchSharp.torch;

[Question("hw-covid-regression.q1", Points = 10)]
sealed class CovidValidationMseCheck(Func<Tensor, Tensor> PredictCovid) : QuestionCheck
{
    // (bar, share of the points): the first bar the validation MSE is at or below decides the score.
    private static readonly (double Bar, double Share)[] FullBars = [(0.92, 1.0), (0.95, 0.7), (0.97, 0.4)];
    // Quick mode (mlcourse grade --quick trains with MLCOURSE_QUICK=1, fewer epochs): the reference solution reaches
    // 1.0275 there (60 epochs, still improving), 0.12 above its full-mode 0.9064, so each bar is 0.13–0.14 higher.
    private static readonly (double Bar, double Share)[] QuickBars = [(1.05, 1.0), (1.08, 0.7), (1.11, 0.4)];

    public override void Run(Grade grade)
    {
        var data = Covid.Load(CovidYear.Y2021);
        long n = data.Validation.Count;
        // the validation rows in a fresh random order, so a hard-coded list of predictions fails
        var order = torch.tensor(Enumerable.Range(0, (int)n).OrderBy(_ => grade.Random.Next()).Select(i => (long)i).ToArray());
        var X = data.Validation.X.index_select(0, order);                       // (540, 93) float32, unscaled
        var y = data.Validation.y!.index_select(0, order).to(float64).cpu();    // (540)

        grade.Part($"validation MSE on the fixed split ({n} rows)", 10, () =>
        {
            var predictions = PredictCovid(X.clone());
            Expect.That(predictions.numel() == n,
                $"PredictCovid(X of shape [{n}, {X.shape[1]}]) returned shape {Expect.Format(predictions.shape)}; expected [{n}]: one prediction per row.");
            var p = predictions.detach().reshape(n).to(float64).cpu();
            Expect.That(p.isfinite().all().item<bool>(), "PredictCovid returned NaN or infinite values; check the feature scaling (division by a zero std?).");
            double mse = (p - y).pow(2).mean().item<double>();
            var bars = grade.Quick ? QuickBars : FullBars;
            for (int i = 0; i < bars.Length; i++)
                if (mse <= bars[i].Bar)
                    return (bars[i].Share, $"validation MSE {mse:F4} ≤ {bars[i].Bar:F2}"
                        + (i == 0 ? ": full points." : $" ({bars[i].Share:P0} of the points); full points at ≤ {bars[0].Bar:F2}."));
            if (Mistake(p, y, data.Train.y!.to(float64).cpu(), bars[^1].Bar) is { } mistake)
                return (0.0, $"validation MSE {mse:F4} is above {bars[^1].Bar:F2}: {mistake}");
            return (0.0, $"validation MSE {mse:F4} is above {bars[^1].Bar:F2}"
                         + (grade.Quick ? " (quick mode). " : ", the level of plain linear regression on all features. ")
                         + "Select features, standardise them and regularise (see the homework's hints), choosing on a development split of the training rows.");
        });
    }

    /// <summary>
    /// The typical wrong predictors (mutations of the solution), recognised from the predictions <paramref name="p"/> against
    /// the validation targets <paramref name="y"/>: inputs not prepared as in training (predictions far outside the range of
    /// the training targets), or predictions left in the standardised target's units (a good fit once rescaled). Null when neither.
    /// </summary>
    private static string? Mistake(Tensor p, Tensor y, Tensor trainY, double bar)
    {
        double lo = trainY.min().item<double>(), hi = trainY.max().item<double>(), range = hi - lo;
        double outside = p.lt(lo - range).logical_or(p.gt(hi + range)).to(float64).mean().item<double>();
        if (outside > 0.1)
            return $"{outside:P0} of your predictions lie far outside the range of the training targets ({lo:F1} to {hi:F1}; yours from "
                   + $"{p.min().item<double>():G3} to {p.max().item<double>():G3}): the inputs at prediction time are not prepared as in training. "
                   + "PredictCovid must select the same columns and standardise them with the training rows' mean and std before the model.";
        var pc = p - p.mean();
        var yc = y - y.mean();
        double slope = (pc * yc).sum().item<double>() / Math.Max((pc * pc).sum().item<double>(), 1e-12);
        double rescaled = (slope * pc - yc).pow(2).mean().item<double>();
        if (rescaled <= bar)
            return $"your predictions are on the wrong scale: their mean is {p.mean().item<double>():F2} and their std {p.std().item<double>():F2}, "
                   + $"the targets' {y.mean().item<double>():F2} and {y.std().item<double>():F2}; rescaled, they would reach MSE {rescaled:F4}. "
                   + "If the network learned a standardised target, map its output back (· std + mean of the training targets).";
        return null;
    }
}

// Checks of hw-imdb-bert.q4, LearningRate(step, totalSteps, warmupSteps, peak) (2 points): linear warm-up from 0,
// then linear decay to 0, as Hugging Face's get_linear_schedule_with_warmup; compared value by value with the formula
// for random schedules (and one without warm-up).
using MLCourse.Grading;

[Question("hw-imdb-bert.q4", Points = 2)]
sealed class LearningRateCheck(Func<int, int, int, double, double> LearningRate) : QuestionCheck
{
    private static double Reference(int step, int total, int warmup, double peak) =>
        step < warmup ? peak * step / warmup : peak * Math.Max(0.0, (total - step) / (double)Math.Max(1, total - warmup));

    public override void Run(Grade grade)
    {
        int total = grade.Random.Next(40, 400), warmup = grade.Random.Next(2, total / 4);
        double peak = Math.Round(grade.Random.NextDouble() * 9 + 1, 2) * 1e-5;

        grade.Part("the warm-up", 1, () =>
        {
            foreach (int step in Enumerable.Range(0, warmup + 1))
                Expect.Close(LearningRate(step, total, warmup, peak), Reference(step, total, warmup, peak),
                    $"LearningRate({step}, {total}, {warmup}, {peak:E2})", Math.Abs(peak) * 1e-9,
                    hint: "During the warm-up (step < warmupSteps) the rate is peak · step / warmupSteps: 0 at step 0, peak at step warmupSteps. Mind integer division.");
        });

        grade.Part("the linear decay (and no warm-up)", 1, () =>
        {
            foreach (int step in Enumerable.Range(warmup, total - warmup))
                Expect.Close(LearningRate(step, total, warmup, peak), Reference(step, total, warmup, peak),
                    $"LearningRate({step}, {total}, {warmup}, {peak:E2})", Math.Abs(peak) * 1e-9,
                    hint: "After the warm-up the rate is peak · (totalSteps − step) / (totalSteps − warmupSteps): peak at step warmupSteps, falling to peak / (totalSteps − warmupSteps) at the last step.");
            foreach (int step in new[] { 0, 1, total / 2, total - 1 })
                Expect.Close(LearningRate(step, total, 0, peak), Reference(step, total, 0, peak),
                    $"LearningRate({step}, {total}, warmupSteps: 0, {peak:E2})", Math.Abs(peak) * 1e-9,
                    hint: "With warmupSteps = 0 there is no warm-up: step 0 already has the peak rate (and no division by zero).");
        });
    }
}

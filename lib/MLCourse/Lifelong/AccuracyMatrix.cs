namespace MLCourse.Lifelong;

/// <summary>
/// The evaluation of life-long learning (终身学习): R[i][j] is the accuracy on task j after training on tasks
/// 0..i in order (T tasks, a T×T matrix). The lower triangle shows forgetting, the upper triangle transfer to tasks
/// not seen yet. Introduced in chapter 19 (life-long learning).
/// </summary>
public static class AccuracyMatrix
{
    /// <summary>Average accuracy over all tasks after the last one: (1/T) Σ_j R[T−1][j].</summary>
    public static double AverageAccuracy(double[][] R)
    {
        Check(R);
        return R[^1].Average();
    }

    /// <summary>
    /// Backward transfer: (1/(T−1)) Σ_{j&lt;T−1} (R[T−1][j] − R[j][j]), how much learning later tasks changed the
    /// accuracy on earlier ones. Negative values are forgetting (遗忘).
    /// </summary>
    public static double BackwardTransfer(double[][] R)
    {
        int T = Check(R);
        if (T < 2) return 0;
        return Enumerable.Range(0, T - 1).Average(j => R[T - 1][j] - R[j][j]);
    }

    /// <summary>
    /// Forward transfer: (1/(T−1)) Σ_{j≥1} (R[j−1][j] − baseline[j]), the accuracy on task j before training on it,
    /// compared with a model that has learnt nothing (<paramref name="baseline"/>: e.g. the randomly initialised net).
    /// </summary>
    public static double ForwardTransfer(double[][] R, IReadOnlyList<double> baseline)
    {
        int T = Check(R);
        if (baseline.Count != T) throw new ArgumentException($"need one baseline accuracy per task ({T}), got {baseline.Count}", nameof(baseline));
        if (T < 2) return 0;
        return Enumerable.Range(1, T - 1).Average(j => R[j - 1][j] - baseline[j]);
    }

    private static int Check(double[][] R)
    {
        if (R.Length == 0 || R.Any(row => row.Length != R.Length))
            throw new ArgumentException("R must be a non-empty square matrix (tasks × tasks)", nameof(R));
        return R.Length;
    }
}

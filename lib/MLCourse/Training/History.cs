using MLCourse.Plots;
using Plotly.NET;

namespace MLCourse.Training;

/// <summary>What one epoch of training produced.</summary>
/// <param name="Epoch">1-based epoch number.</param>
/// <param name="Train">Loss (and accuracy) on the training batches, averaged while the model changed.</param>
/// <param name="Validation">Loss (and accuracy) on held-out data after the epoch, if any.</param>
/// <param name="Time">Wall time of the epoch, evaluation included.</param>
public sealed record EpochStats(int Epoch, Evaluation Train, Evaluation? Validation, TimeSpan Time)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"epoch {Epoch}: train {Train}" + (Validation is null ? "" : $" | validation {Validation}") + $" | {Time.TotalSeconds:F1} s";
}

/// <summary>The metric history of a training run, one row per epoch; <see cref="Plot"/> draws the curves.</summary>
public sealed class History : List<EpochStats>
{
    /// <summary>The last epoch's numbers.</summary>
    public EpochStats Last => Count > 0 ? this[^1] : throw new InvalidOperationException("No epoch has been trained yet.");

    /// <summary>Loss curves (and accuracy curves when tracked) against the epoch.</summary>
    public GenericChart Plot(string title = "Training curves")
    {
        var epochs = this.Select(e => e.Epoch).ToArray();
        var charts = new List<GenericChart>
        {
            Charts.Line(epochs, this.Select(e => e.Train.Loss), "train loss"),
        };
        if (this.All(e => e.Validation is not null))
            charts.Add(Charts.Line(epochs, this.Select(e => e.Validation!.Loss), "validation loss"));
        if (this.All(e => e.Train.Accuracy is not null))
            charts.Add(Charts.Line(epochs, this.Select(e => e.Train.Accuracy!.Value), "train accuracy"));
        if (this.All(e => e.Validation?.Accuracy is not null))
            charts.Add(Charts.Line(epochs, this.Select(e => e.Validation!.Accuracy!.Value), "validation accuracy"));
        return Charts.Combine(charts, title, "epoch", "value");
    }

    /// <inheritdoc />
    public override string ToString() => string.Join(Environment.NewLine, this);
}

namespace DistillSharp.Reports.Plots;

/// <summary>
/// One scalar of metrics.jsonl against the global step (lr.png, grad_norm.png), with stage
/// boundaries and a log Y axis when the values span a wide range.
/// </summary>
public static class TrainingCurvePlot
{
    /// <summary>
    /// Writes the plot of <paramref name="key"/>; false (nothing written) when it has no finite values.
    /// <paramref name="noisy"/> adds a moving average over long series (gradient norms; not a learning rate, which is exact).
    /// </summary>
    public static bool Write(MetricsTable metrics, string key, string title, string yLabel, string path, bool noisy)
    {
        var (steps, values) = metrics.Series(key);
        if (steps.Length == 0) return false;
        bool log = SeriesMath.IsWide(values);
        var plot = Figure.CreateStepPlot(title, log ? yLabel + " (log scale)" : yLabel);
        double[] ys = log ? Figure.Log10(values) : values;
        var stages = metrics.Stages();
        if (noisy) Figure.NoisyLine(plot, steps, ys, "", Figure.Color(0), stages);
        else Figure.Line(plot, steps, ys, "", Figure.Color(0));
        if (log) Figure.LogTicksY(plot);
        else Figure.CompactTicksY(plot);
        Figure.MarkStages(plot, stages, ys);
        Figure.Save(plot, path);
        return true;
    }
}

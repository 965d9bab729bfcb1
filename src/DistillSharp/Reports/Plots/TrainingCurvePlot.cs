using ScottPlot;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// One scalar of metrics.jsonl against the global step (lr.png, grad_norm.png), with stage
/// boundaries and a log Y axis when the values span a wide range.
/// </summary>
public static class TrainingCurvePlot
{
    /// <summary>Writes the plot of <paramref name="key"/>; false (nothing written) when it has no finite values.</summary>
    public static bool Write(MetricsTable metrics, string key, string title, string yLabel, string path)
    {
        var (steps, values) = metrics.Series(key);
        if (steps.Length == 0) return false;
        bool log = Figure.IsWide(values);
        var plot = Figure.Create(title, "optimizer step", log ? yLabel + " (log scale)" : yLabel);
        double[] ys = log ? Figure.Log10(values) : values;
        var line = Figure.Line(plot, steps, ys, "", Figure.Color(0));
        if (steps.Length == 1) line.MarkerSize = 8;
        if (log) Figure.LogTicksY(plot);
        else Figure.CompactTicksY(plot);
        Figure.MarkStages(plot, metrics.Stages(), ys);
        Figure.Save(plot, path);
        return true;
    }
}

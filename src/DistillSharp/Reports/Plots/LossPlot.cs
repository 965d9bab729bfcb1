using ScottPlot;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// loss.png: the weighted total loss and every <c>loss/&lt;term&gt;</c> against the global step,
/// stage boundaries as dashed lines, a log Y axis when the values span a wide range.
/// </summary>
public static class LossPlot
{
    /// <summary>Writes the plot; false (nothing written) when the metrics hold no loss values.</summary>
    public static bool Write(MetricsTable metrics, string path)
    {
        var series = new List<(string Name, double[] Steps, double[] Values)>();
        var total = metrics.Series("loss");
        if (total.Steps.Length > 0) series.Add(("total (weighted)", total.Steps, total.Values));
        foreach (string key in metrics.LossTermKeys)
        {
            var s = metrics.Series(key);
            if (s.Steps.Length > 0) series.Add((key["loss/".Length..], s.Steps, s.Values));
        }
        if (series.Count == 0) return false;

        bool log = SeriesMath.IsWide(series.SelectMany(s => s.Values));
        var plot = Figure.CreateStepPlot("Distillation loss", log ? "loss (log scale)" : "loss");
        var stages = metrics.Stages();
        var plotted = new List<double>();
        for (int i = 0; i < series.Count; i++)
        {
            var (name, steps, values) = series[i];
            double[] ys = log ? Figure.Log10(values) : values;
            plotted.AddRange(ys);
            var line = Figure.NoisyLine(plot, steps, ys, name, i == 0 ? Colors.Black : Figure.Color(i - 1), stages);
            if (i == 0) line.LineWidth = 2.5f;
        }
        if (log) Figure.LogTicksY(plot);
        else Figure.CompactTicksY(plot);
        Figure.MarkStages(plot, stages, plotted);
        Figure.LegendOutside(plot);
        Figure.Save(plot, path);
        return true;
    }
}

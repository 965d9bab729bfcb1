using ScottPlot;

namespace DistillSharp.Reports.Plots;

/// <summary>One model's calibration for <see cref="ReliabilityPlot"/>.</summary>
/// <param name="Name">Variant name.</param>
/// <param name="Confidence">Mean confidence of each non-empty bin.</param>
/// <param name="Accuracy">Accuracy of each non-empty bin.</param>
/// <param name="Ece">Expected calibration error.</param>
public sealed record ReliabilitySeries(string Name, double[] Confidence, double[] Accuracy, double Ece);

/// <summary>
/// reliability.png: a reliability diagram (Guo et al. 2017, fig. 1) — each model's accuracy against
/// its mean confidence per confidence bin, one line per model with its ECE in the legend, and the
/// diagonal of perfect calibration (points below it are over-confident).
/// </summary>
public static class ReliabilityPlot
{
    /// <summary>Writes the plot; false (nothing written) when no series has a point.</summary>
    public static bool Write(IReadOnlyList<ReliabilitySeries> series, string path)
    {
        if (series.All(s => s.Confidence.Length == 0)) return false;
        var plot = Figure.Create("Reliability diagram (test set)", "confidence (max class probability)", "accuracy");
        Figure.Line(plot, [0, 1], [0, 1], "perfect calibration", Colors.Gray, dashed: true);
        for (int i = 0; i < series.Count; i++)
        {
            var s = series[i];
            if (s.Confidence.Length == 0) continue;
            var line = Figure.Line(plot, s.Confidence, s.Accuracy, $"{s.Name} (ECE {s.Ece:0.000})", Figure.Color(i));
            line.MarkerSize = 6;
        }
        plot.Axes.SetLimits(0, 1, 0, 1.02);
        Figure.LegendOutside(plot);
        Figure.Save(plot, path);
        return true;
    }
}

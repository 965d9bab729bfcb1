using DistillSharp.Reports.Plots;
using ScottPlot;

namespace DistillSharp.Reports.Decoder;

/// <summary>
/// The LM run's plots: loss.png (every training phase's loss against its own step, one line per
/// phase) and perplexity_vs_speed.png (each model at x = decode tokens/s at batch 1, y = held-out
/// perplexity; down and to the right is better).
/// </summary>
public static class LmPlots
{
    /// <summary>Writes the plots that have data into <paramref name="plotDir"/>; returns the file names written.</summary>
    public static IReadOnlyList<string> Write(LmReport report, IReadOnlyDictionary<string, string> phaseMetrics, string plotDir)
    {
        var written = new List<string>();
        if (WriteLoss(phaseMetrics, Path.Combine(plotDir, "loss.png"))) written.Add("loss.png");
        if (WritePerplexitySpeed(report, Path.Combine(plotDir, "perplexity_vs_speed.png"))) written.Add("perplexity_vs_speed.png");
        return written;
    }

    static bool WriteLoss(IReadOnlyDictionary<string, string> phaseMetrics, string path)
    {
        var series = phaseMetrics
            .Select(kv => (Name: kv.Key, Table: MetricsTable.TryLoad(kv.Value)))
            .Where(x => x.Table is not null)
            .Select(x => (x.Name, Series: x.Table!.Series("loss")))
            .Where(x => x.Series.Steps.Length > 0).ToList();
        if (series.Count == 0) return false;
        bool log = SeriesMath.IsWide(series.SelectMany(s => s.Series.Values));
        var plot = Figure.CreateStepPlot("Training loss per phase", log ? "loss (log scale)" : "loss");
        plot.XLabel("optimizer step of the phase", 14);
        for (int i = 0; i < series.Count; i++)
        {
            var (name, (steps, values)) = series[i];
            Figure.NoisyLine(plot, steps, log ? Figure.Log10(values) : values, name, Figure.Color(i), []);
        }
        if (log) Figure.LogTicksY(plot);
        else Figure.CompactTicksY(plot);
        Figure.LegendOutside(plot);
        Figure.Save(plot, path);
        return true;
    }

    static bool WritePerplexitySpeed(LmReport report, string path)
    {
        var points = LmReportWriter.Ordered(report)
            .Select((name, i) => (Name: name, Color: i, X: report.Models[name].DecodeTokensPerSecond(1), Y: report.Models[name].Perplexity))
            .Where(p => p.X is double x && double.IsFinite(x) && x > 0 && p.Y is double y && double.IsFinite(y)).ToList();
        if (points.Count == 0) return false;
        var plot = Figure.Create("Held-out perplexity vs decode speed (down-right is better)", "decode tokens/s at batch 1", "held-out perplexity");
        foreach (var p in points)
        {
            var color = Figure.Color(p.Color);
            plot.Add.Marker(p.X!.Value, p.Y!.Value, MarkerShape.FilledCircle, 12, color);
            var text = plot.Add.Text(p.Name, p.X.Value, p.Y.Value);
            text.LabelFontSize = 13;
            text.LabelFontColor = color;
            text.LabelAlignment = Alignment.LowerLeft;
            text.OffsetX = 8;
            text.OffsetY = -6;
        }
        plot.Axes.Margins(horizontal: 0.3, vertical: 0.3);
        Figure.Save(plot, path);
        return true;
    }
}

using ScottPlot;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// baseline_vs_student.png: does the teacher help? Left, the loss curves of the distilled student
/// and of the baseline (same student trained without the teacher) — total loss and every loss
/// term both runs log; right, when report.json has both variants, their quality side by side.
/// </summary>
public static class BaselineComparisonPlot
{
    /// <summary>Writes the plot; false (nothing written) when neither run logged a loss.</summary>
    public static bool Write(MetricsTable student, MetricsTable baseline, RunReport? report, string path)
    {
        var losses = Losses(student, baseline);
        if (losses is null) return false;
        var panels = new List<Plot> { losses };
        if (report?.Variant("student") is { } s && report.Variant("baseline") is { } b && Quality(s, b, report.Variant("teacher")) is { } quality)
            panels.Add(quality);
        Figure.SaveSideBySide(panels, path, panelWidth: panels.Count == 1 ? Figure.Width : 640);
        return true;
    }

    static Plot? Losses(MetricsTable student, MetricsTable baseline)
    {
        var keys = new List<string> { "loss" };
        keys.AddRange(student.LossTermKeys.Intersect(baseline.LossTermKeys));
        var series = new List<(string Name, int Color, bool Baseline, double[] Steps, double[] Values)>();
        for (int k = 0; k < keys.Count; k++)
        {
            string term = k == 0 ? "total" : keys[k]["loss/".Length..];
            var st = student.Series(keys[k]);
            var bl = baseline.Series(keys[k]);
            if (k > 0 && SameAs(st, student.Series("loss"))) st = ([], []); // a run's only term is its total: drawn once
            if (k > 0 && SameAs(bl, baseline.Series("loss"))) bl = ([], []);
            if (st.Steps.Length > 0) series.Add(($"student: {term}", k, false, st.Steps, st.Values));
            if (bl.Steps.Length > 0) series.Add(($"baseline: {term}", k, true, bl.Steps, bl.Values));
        }
        if (series.Count == 0) return null;
        bool log = SeriesMath.IsWide(series.SelectMany(s => s.Values));
        var plot = Figure.CreateStepPlot("Distilled student vs baseline (no teacher)", log ? "loss (log scale)" : "loss");
        foreach (var (name, color, isBaseline, steps, values) in series)
            Figure.NoisyLine(plot, steps, log ? Figure.Log10(values) : values, name, Figure.Color(color),
                (isBaseline ? baseline : student).Stages(), dashed: isBaseline);
        if (log) Figure.LogTicksY(plot);
        else Figure.CompactTicksY(plot);
        Figure.LegendOutside(plot, below: true);
        return plot;
    }

    static bool SameAs((double[] Steps, double[] Values) a, (double[] Steps, double[] Values) b) =>
        a.Steps.SequenceEqual(b.Steps) && a.Values.Zip(b.Values).All(p => Math.Abs(p.First - p.Second) <= 1e-9 * Math.Max(1, Math.Abs(p.Second)));

    static Plot? Quality(VariantReport student, VariantReport baseline, VariantReport? teacher)
    {
        var metrics = ReportWriter.QualityColumns
            .Where(q => student.Metric(q.Task, q.Metric) != null || baseline.Metric(q.Task, q.Metric) != null).ToList();
        if (metrics.Count == 0) return null;
        var plot = Figure.Create("Quality: distilled student vs baseline", "", "score");
        var groups = new List<(string Name, VariantReport? Variant)> { ("teacher", teacher), ("student", student), ("baseline", baseline) };
        groups.RemoveAll(g => g.Variant is null);
        const double barWidth = 0.8;
        for (int g = 0; g < groups.Count; g++)
        {
            var bars = new List<Bar>();
            for (int m = 0; m < metrics.Count; m++)
            {
                if (groups[g].Variant!.Metric(metrics[m].Task, metrics[m].Metric) is not double value) continue;
                bars.Add(new Bar
                {
                    Position = m * (groups.Count + 1) + g, Value = value, Size = barWidth,
                    FillColor = Figure.Color(g == 0 ? 7 : g - 1), LineWidth = 0,
                });
            }
            var plottable = plot.Add.Bars(bars);
            plottable.LegendText = groups[g].Name;
        }
        double[] centers = metrics.Select((_, m) => m * (groups.Count + 1) + (groups.Count - 1) / 2.0).ToArray();
        plot.Axes.Bottom.SetTicks(centers, metrics.Select(q => q.Header).ToArray());
        double highest = groups.SelectMany(g => metrics.Select(q => g.Variant!.Metric(q.Task, q.Metric) ?? 0)).Max();
        plot.Axes.SetLimitsY(0, Math.Max(highest, 1e-9) * 1.25); // head room for the legend above the bars
        plot.ShowLegend(Alignment.UpperCenter, Orientation.Horizontal);
        return plot;
    }
}

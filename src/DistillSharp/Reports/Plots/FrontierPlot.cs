using ScottPlot;
using DistillSharp.Reports.Encoder;
using static DistillSharp.Reports.Plots.QualityLatencyPlot;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// frontier.png of a multi-student run: every point of report.json's <c>frontier</c> (the teacher
/// ◆, each student's fp32 or static row ●, its INT8 row ■, one colour per student) at x = batch-1
/// p50 latency on a log axis, y = the frontier's quality metric; the non-dominated points are
/// ringed and joined by a dashed staircase, and the deployed student's rows are named in the title.
/// </summary>
public static class FrontierPlot
{
    /// <summary>Writes the plot; false (nothing written) when the report has no frontier with a measured point.</summary>
    public static bool Write(RunReport report, string path)
    {
        if (report.Frontier is not { Points: { } all } frontier) return false;
        var points = all.Where(p => p.Quality is double q && double.IsFinite(q) && p.P50Ms is double x && double.IsFinite(x) && x > 0).ToList();
        if (points.Count == 0) return false;
        var students = points.Select(p => p.Student).Distinct().ToList();
        var labelled = points.Select(p => new LabelledPoint(p.Variant, students.IndexOf(p.Student), p.P50Ms!.Value, p.Quality!.Value,
            p.Student is null ? MarkerShape.FilledDiamond : p.Variant.EndsWith("_int8", StringComparison.Ordinal) ? MarkerShape.FilledSquare : MarkerShape.FilledCircle)).ToList();
        string deployed = frontier.Selection is { } s ? s.Deployed is { } d ? $"; deployed: {d}" : "; nothing deployed" : "";
        var plot = Panel($"Speed–quality frontier (up-left is better){deployed}", frontier.Metric ?? "quality", labelled, log: true);

        var front = points.Select((p, i) => (p, i)).Where(x => x.p.Pareto == true).OrderBy(x => x.p.P50Ms).ToList();
        if (front.Count > 0)
        {
            var xs = front.Select(x => Math.Log10(x.p.P50Ms!.Value)).ToArray();
            var ys = front.Select(x => x.p.Quality!.Value).ToArray();
            var line = plot.Add.ScatterLine(xs, ys, Colors.Gray);
            line.LinePattern = LinePattern.Dashed;
            line.ConnectStyle = ConnectStyle.StepHorizontal; // the staircase of what the front attains: a slower point is only worth it from its latency on
            line.LineWidth = 1.5f;
            line.MarkerShape = MarkerShape.OpenCircle;
            line.MarkerSize = 24;
            line.MarkerLineWidth = 2;
            line.LegendText = "non-dominated (Pareto front)";
            plot.ShowLegend(Alignment.LowerRight);
        }
        Figure.Save(plot, path);
        return true;
    }
}

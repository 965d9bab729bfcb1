using ScottPlot;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// quality_vs_latency.png: each model variant as a labelled point, x = batch-1 p50 latency,
/// y = retrieval R@10 (left panel) and spam F1 (right panel). Up and to the left is better.
/// </summary>
public static class QualityLatencyPlot
{
    /// <summary>Latencies spanning at least this ratio get a log X axis.</summary>
    public const double LogLatencyRatio = 10;

    /// <summary>Writes the plot; false (nothing written) when no variant has both a latency and R@10 or F1.</summary>
    public static bool Write(RunReport report, string path)
    {
        var names = ReportWriter.OrderedVariants(report);
        var panels = new List<Plot>();
        foreach (var (title, task, metric, label) in new[]
                 {
                     ("R@10 vs latency (up-left is better)", "wordnet_retrieval", "r10", "WordNet retrieval R@10"),
                     ("F1 vs latency (up-left is better)", "spam_f1", "f1", "spam F1"),
                 })
        {
            var points = names
                .Select((name, i) => (Name: name, Color: i, X: report.Variants[name].LatencyMs?.P50, Y: report.Variants[name].Metric(task, metric)))
                .Where(p => p.X is double x && double.IsFinite(x) && x > 0 && p.Y is double y && double.IsFinite(y))
                .Select(p => new LabelledPoint(p.Name, p.Color, p.X!.Value, p.Y!.Value)).ToList();
            if (points.Count > 0) panels.Add(Panel(title, label, points, SeriesMath.IsWide(points.Select(p => p.X), LogLatencyRatio)));
        }
        if (panels.Count == 0) return false;
        Figure.SaveSideBySide(panels, path, panelWidth: panels.Count == 1 ? 900 : 640);
        return true;
    }

    /// <summary>
    /// One panel of labelled points, x = batch-1 p50 latency (log10 when <paramref name="log"/>), y = quality;
    /// the frontier plot (<see cref="FrontierPlot"/>) draws its points through this same panel.
    /// </summary>
    internal static Plot Panel(string title, string yLabel, IReadOnlyList<LabelledPoint> points, bool log)
    {
        var plot = Figure.Create(title, log ? "p50 latency at batch 1, ms (log scale)" : "p50 latency at batch 1 (ms)", yLabel);
        var xs = points.Select(p => log ? Math.Log10(p.X) : p.X).ToArray();
        var ys = points.Select(p => p.Y).ToArray();
        var placer = new LabelPlacer(xs, ys);
        for (int i = 0; i < points.Count; i++)
        {
            var color = Figure.Color(points[i].Color);
            plot.Add.Marker(xs[i], ys[i], points[i].Shape, 12, color);
            var (alignment, dx, dy) = placer.Place(i, points[i].Name.Length);
            var text = plot.Add.Text(points[i].Name, xs[i], ys[i]);
            text.LabelFontSize = 13;
            text.LabelFontColor = color;
            text.LabelAlignment = alignment;
            text.OffsetX = dx;
            text.OffsetY = dy;
        }
        if (log) Figure.LogTicksX(plot);
        plot.Axes.Margins(horizontal: 0.4, vertical: 0.3);
        return plot;
    }

    /// <summary>A labelled point of a panel: its palette index, position and marker.</summary>
    internal sealed record LabelledPoint(string Name, int Color, double X, double Y, MarkerShape Shape = MarkerShape.FilledCircle);

    /// <summary>
    /// Greedy label placement: each label goes to the first spot around its point (right, left,
    /// above, below) whose estimated box stays inside the frame and hits no earlier label and no
    /// other point. Boxes are in units of the data range: ~0.02 per character wide, 0.07 high.
    /// </summary>
    sealed class LabelPlacer(double[] xs, double[] ys)
    {
        const double CharWidth = 0.02, Height = 0.07, PointRadius = 0.02, Frame = 0.3;
        readonly double _xMin = xs.Min(), _xSpan = Span(xs), _yMin = ys.Min(), _ySpan = Span(ys);
        readonly List<(double X0, double X1, double Y0, double Y1)> _placed = [];

        static double Span(double[] v) => v.Max() - v.Min() is double s && s > 0 ? s : 1;

        public (Alignment Alignment, float Dx, float Dy) Place(int i, int chars)
        {
            double x = (xs[i] - _xMin) / _xSpan, y = (ys[i] - _yMin) / _ySpan, w = chars * CharWidth, h = Height;
            (Alignment, float, float, double, double, double, double)[] candidates =
            [
                (Alignment.LowerLeft, 8f, -6f, x, x + w, y, y + h),               // above right
                (Alignment.UpperLeft, 8f, 6f, x, x + w, y - h, y),                // below right
                (Alignment.LowerRight, -8f, -6f, x - w, x, y, y + h),             // above left
                (Alignment.UpperRight, -8f, 6f, x - w, x, y - h, y),              // below left
                (Alignment.LowerCenter, 0f, -10f, x - w / 2, x + w / 2, y + PointRadius, y + PointRadius + h), // above
                (Alignment.UpperCenter, 0f, 10f, x - w / 2, x + w / 2, y - PointRadius - h, y - PointRadius),  // below
            ];
            var pool = candidates.Where(c => c.Item4 >= -Frame && c.Item5 <= 1 + Frame).ToList();
            if (pool.Count == 0) pool = [.. candidates];
            var chosen = pool.FirstOrDefault(c => Free(i, c.Item4, c.Item5, c.Item6, c.Item7), pool[0]); // overlap beats clipping
            _placed.Add((chosen.Item4, chosen.Item5, chosen.Item6, chosen.Item7));
            return (chosen.Item1, chosen.Item2, chosen.Item3);
        }

        bool Free(int i, double x0, double x1, double y0, double y1)
        {
            if (_placed.Any(b => b.X0 < x1 && x0 < b.X1 && b.Y0 < y1 && y0 < b.Y1)) return false;
            for (int j = 0; j < xs.Length; j++)
            {
                double px = (xs[j] - _xMin) / _xSpan, py = (ys[j] - _yMin) / _ySpan;
                if (j != i && px + PointRadius > x0 && px - PointRadius < x1 && py + PointRadius > y0 && py - PointRadius < y1) return false;
            }
            return true;
        }
    }
}

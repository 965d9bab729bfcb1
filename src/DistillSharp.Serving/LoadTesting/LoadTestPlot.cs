using ScottPlot;

namespace DistillSharp.Serving.LoadTesting;

/// <summary>
/// The latency–throughput curve of a sweep: x = achieved requests/s, y = P50 and P99 latency (ms),
/// one point per rate, and the 50 ms P99 goal as a dashed line. The knee is where queueing starts.
/// </summary>
public static class LoadTestPlot
{
    /// <summary>Writes a PNG to <paramref name="path"/>.</summary>
    public static void Write(LoadTestReport report, string path, double goalMs = 50)
    {
        var plot = new Plot();
        plot.Font.Set(new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans" }.FirstOrDefault(f => Fonts.GetTypeface(f, false, false)?.FamilyName == f) ?? Fonts.Default);
        plot.Title($"latency vs throughput, {report.Url}", 16);
        plot.XLabel("achieved requests/s", 14);
        plot.YLabel("latency (ms)", 14);
        var runs = report.Runs.Where(r => r.Ok > 0).ToList();
        double[] x = runs.Select(r => r.AchievedQps).ToArray();
        foreach (var (name, values, color) in new[]
                 {
                     ("P50", runs.Select(r => r.P50Ms).ToArray(), Colors.SteelBlue),
                     ("P99", runs.Select(r => r.P99Ms).ToArray(), Colors.OrangeRed),
                 })
        {
            if (x.Length == 0) break;
            var line = plot.Add.Scatter(x, values, color);
            line.LegendText = name;
            line.MarkerSize = 8;
            line.LineWidth = 2;
        }
        var goal = plot.Add.HorizontalLine(goalMs, 1.5f, Colors.Gray, LinePattern.Dashed);
        goal.LegendText = $"P99 goal {goalMs} ms";
        plot.ShowLegend(Alignment.UpperLeft);
        plot.Axes.Margins(horizontal: 0.1, vertical: 0.15);
        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        plot.SavePng(path, 1000, 560);
    }
}

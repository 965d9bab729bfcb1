using ScottPlot;
using SkiaSharp;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// What every report plot shares: a sans font, a fixed palette, stage boundaries, log-scale
/// decisions and PNG output (one plot, or several side by side). Renders headless through SkiaSharp.
/// </summary>
static class Figure
{
    /// <summary>Width and height of a single-panel PNG, in pixels.</summary>
    public const int Width = 1000, Height = 560;

    static readonly IPalette Palette = new ScottPlot.Palettes.Category10();
    static readonly Lazy<string?> SansFont = new(() =>
        new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica" }.FirstOrDefault(f => Fonts.GetTypeface(f, false, false)?.FamilyName == f));

    /// <summary>The i-th color of the report palette.</summary>
    public static Color Color(int i) => Palette.GetColor(i);

    /// <summary>A plot with title and axis labels in the report style.</summary>
    public static Plot Create(string title, string xLabel, string yLabel)
    {
        var plot = new Plot();
        if (SansFont.Value is string font) plot.Font.Set(font);
        plot.Title(title, 18);
        plot.XLabel(xLabel, 14);
        plot.YLabel(yLabel, 14);
        return plot;
    }

    /// <summary>A plot against the global optimizer step: whole-number X ticks.</summary>
    public static Plot CreateStepPlot(string title, string yLabel)
    {
        var plot = Create(title, "optimizer step", yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        return plot;
    }

    /// <summary>log10 of each value: ScottPlot draws log axes as log-transformed data with log ticks.</summary>
    public static double[] Log10(double[] values) => values.Select(Math.Log10).ToArray();

    /// <summary>Labels the Y axis ticks as powers of ten of the (log10) data, with log minor ticks.</summary>
    public static void LogTicksY(Plot plot) => plot.Axes.Left.TickGenerator = LogTicks();

    /// <summary>Labels the X axis ticks as powers of ten of the (log10) data, with log minor ticks.</summary>
    public static void LogTicksX(Plot plot) => plot.Axes.Bottom.TickGenerator = LogTicks();

    static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = y => Compact(Math.Pow(10, y)),
    };

    /// <summary>
    /// Dashed vertical lines where a stage ends and the next begins, and each stage's name just
    /// above the highest plotted value (<paramref name="plottedYs"/>, in plot coordinates) at its start.
    /// </summary>
    public static void MarkStages(Plot plot, IReadOnlyList<StageSpan> stages, IEnumerable<double> plottedYs)
    {
        if (stages.Count < 2 && stages.All(s => s.Name.Length == 0)) return;
        double top = plottedYs.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        for (int i = 0; i < stages.Count; i++)
        {
            double x = stages[i].StartStep + 0.5;
            if (i > 0) plot.Add.VerticalLine(x, 1.5f, Colors.Gray, LinePattern.Dashed).ExcludeFromLegend = true;
            if (stages[i].Name.Length == 0) continue;
            var label = plot.Add.Text(stages[i].Name, x, top);
            label.LabelFontSize = 12;
            label.LabelFontColor = Colors.DimGray;
            label.LabelAlignment = Alignment.LowerLeft;
            label.OffsetX = 4;
            label.OffsetY = -6;
        }
        plot.Axes.Margins(top: 0.18);
    }

    /// <summary>Tick labels that stay short for tiny values: 1e-4, 2.5e-5, 0.5, 120.</summary>
    public static void CompactTicksY(Plot plot) => plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
    {
        LabelFormatter = Compact,
    };

    static string Compact(double v)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        double a = Math.Abs(v);
        if (a < 1e-12) return "0";
        if (a >= 1e-3 && a < 1e5) return v.ToString("0.####", inv);
        int exponent = (int)Math.Floor(Math.Log10(a));
        double mantissa = Math.Round(v / Math.Pow(10, exponent), 2);
        return mantissa.ToString("0.##", inv) + "e" + exponent.ToString(inv);
    }

    /// <summary>Puts the legend outside the data area (right of it, or below it for narrow panels) so it never hides a line.</summary>
    public static void LegendOutside(Plot plot, bool below = false) => plot.ShowLegend(below ? Edge.Bottom : Edge.Right);

    /// <summary>Adds a line series with a legend entry (none when <paramref name="legend"/> is empty).</summary>
    public static ScottPlot.Plottables.Scatter Line(Plot plot, double[] xs, double[] ys, string legend, Color color, bool dashed = false)
    {
        var s = plot.Add.ScatterLine(xs, ys, color);
        if (legend.Length > 0) s.LegendText = legend;
        s.LineWidth = 2;
        s.MarkerSize = xs.Length == 1 ? 9 : xs.Length <= 30 ? 5 : 0; // a lone point needs a marker to be seen at all
        if (dashed) s.LinePattern = LinePattern.Dashed;
        return s;
    }

    /// <summary>Series longer than this are drawn faint with an exponential moving average on top.</summary>
    public const int SmoothAbove = 300;

    /// <summary>
    /// A noisy training curve: as <see cref="Line"/> for short series; for long ones the raw values
    /// faint and unlabelled, and an EMA over ~1/50 of the points (restarted at each stage start, so
    /// it does not smear one stage into the next) drawn on top with the legend entry.
    /// </summary>
    public static ScottPlot.Plottables.Scatter NoisyLine(Plot plot, double[] xs, double[] ys, string legend, Color color,
        IReadOnlyList<StageSpan> stages, bool dashed = false)
    {
        if (xs.Length <= SmoothAbove) return Line(plot, xs, ys, legend, color, dashed);
        var raw = Line(plot, xs, ys, "", color.WithOpacity(0.25), dashed);
        raw.LineWidth = 1;
        return Line(plot, xs, SeriesMath.Ema(xs, ys, stages, alpha: 50.0 / xs.Length), legend.Length > 0 ? legend + " (smoothed)" : "", color, dashed);
    }

    /// <summary>Writes one plot as a PNG of <see cref="Width"/> × <see cref="Height"/>.</summary>
    public static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, width, height);
    }

    /// <summary>Writes several plots side by side in one PNG, each panel <paramref name="panelWidth"/> wide.</summary>
    public static void SaveSideBySide(IReadOnlyList<Plot> panels, string path, int panelWidth = 640, int height = Height)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        int width = panelWidth * panels.Count;
        var multiplot = new Multiplot(panels[0]) { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        foreach (var panel in panels.Skip(1)) multiplot.Subplots.Add(panel);
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        surface.Canvas.Clear(SKColors.White);
        multiplot.Render(surface.Canvas, new PixelRect(0, width, height, 0));
        using var image = surface.Snapshot();
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        using var file = File.Create(path);
        png.SaveTo(file);
    }
}

using DistillSharp.Reports;
using DistillSharp.Reports.Encoder;
using SkiaSharp;

namespace DistillSharp.Tests.Reports;

/// <summary>The plots render headless (ScottPlot over SkiaSharp) into real, non-blank PNGs.</summary>
public sealed class ReportPlotsTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("reportplots-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>PNG signature, IHDR size, more than 10 kB, and more than a handful of colours (not a blank canvas).</summary>
    static (int Width, int Height) AssertRealPng(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal(PngSignature, bytes[..8]);
        Assert.True(bytes.Length > 10_000, $"{Path.GetFileName(path)} is only {bytes.Length} bytes");
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        var colors = new HashSet<uint>();
        for (int y = 0; y < bitmap.Height; y += 7)
            for (int x = 0; x < bitmap.Width; x += 7)
                colors.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colors.Count > 8, $"{Path.GetFileName(path)} has only {colors.Count} colours");
        return (bitmap.Width, bitmap.Height);
    }

    [Fact]
    public void EveryPlotIsWrittenFromAFullRun()
    {
        ReportFixtures.WriteMetrics(Path.Combine(_dir, "metrics.jsonl"));
        ReportFixtures.WriteMetrics(Path.Combine(_dir, "baseline", "metrics.jsonl"), activations: false);
        var inputs = new PlotInputs(ReportFixtures.HandMade(),
            MetricsTable.TryLoad(Path.Combine(_dir, "metrics.jsonl")), MetricsTable.TryLoad(Path.Combine(_dir, "baseline", "metrics.jsonl")));

        var written = ReportPlots.WriteAll(inputs, _dir);

        Assert.Equal(["loss.png", "lr.png", "grad_norm.png", "activations.png", "quality_vs_latency.png", "baseline_vs_student.png"],
            written.Select(Path.GetFileName));
        Assert.All(written, p => Assert.Equal(Path.Combine(_dir, "plots"), Path.GetDirectoryName(p)));
        Assert.Equal((1000, 560), AssertRealPng(written[0]));
        foreach (string path in written.Skip(1)) AssertRealPng(path);
        Assert.Equal((1280, 560), AssertRealPng(written[3]));        // two panels of 640
    }

    [Fact]
    public void PlotsWithoutInputsAreSkippedAndStaleCopiesRemoved()
    {
        string stale = Path.Combine(_dir, "plots", "quality_vs_latency.png");
        Directory.CreateDirectory(Path.GetDirectoryName(stale)!);
        File.WriteAllBytes(stale, [1, 2, 3]);
        ReportFixtures.WriteMetrics(Path.Combine(_dir, "metrics.jsonl"), activations: false);

        var written = ReportPlots.WriteAll(new PlotInputs(null, MetricsTable.TryLoad(Path.Combine(_dir, "metrics.jsonl")), null), _dir);

        Assert.Equal(["loss.png", "lr.png", "grad_norm.png"], written.Select(Path.GetFileName));
        Assert.False(File.Exists(stale));
    }

    [Fact]
    public void QualityPlotNeedsOnlyTheReportAndSurvivesSparseVariants()
    {
        var report = new RunReport
        {
            Variants = new()
            {
                ["teacher"] = new VariantReport { LatencyMs = new LatencyReport { P50 = 40 }, Quality = new() { ["spam_f1"] = new() { ["f1"] = 0.9 } } },
                ["student_int8"] = new VariantReport { LatencyMs = new LatencyReport { P50 = 1 }, Quality = new() { ["spam_f1"] = new() { ["f1"] = 0.85 } } },
                ["baseline"] = new VariantReport(),
            },
        };
        var written = ReportPlots.WriteAll(new PlotInputs(report, null, null), _dir);
        Assert.Equal(["quality_vs_latency.png"], written.Select(Path.GetFileName));
        Assert.Equal((900, 560), AssertRealPng(written[0]));          // only the F1 panel: no variant has R@10
    }

    [Fact]
    public void ASingleRecordStillPlots()
    {
        string path = Path.Combine(_dir, "metrics.jsonl");
        File.WriteAllText(path, """{"step": 1, "stage": "align", "stage_step": 1, "loss": 0.5, "lr": 1e-5, "grad_norm": null}""" + "\n");
        var written = ReportPlots.WriteAll(new PlotInputs(null, MetricsTable.TryLoad(path), null), _dir);
        Assert.Equal(["loss.png", "lr.png"], written.Select(Path.GetFileName));
        foreach (string p in written) Assert.Equal(PngSignature, File.ReadAllBytes(p)[..8]);
    }

    [Fact]
    public void LongNoisySeriesAreSmoothed()
    {
        // 400 records > SmoothAbove: raw values drawn faint, a moving average on top.
        string path = Path.Combine(_dir, "metrics.jsonl");
        var rng = new Random(3);
        File.WriteAllLines(path, Enumerable.Range(1, 400).Select(s => System.FormattableString.Invariant(
            $"{{\"step\": {s}, \"stage\": \"{(s <= 300 ? "align" : "task")}\", \"stage_step\": {(s <= 300 ? s : s - 300)}, \"loss\": {Math.Exp(-s / 100.0) * (1 + rng.NextDouble())}, \"grad_norm\": {rng.NextDouble() + 0.1}}}")));
        var written = ReportPlots.WriteAll(new PlotInputs(null, MetricsTable.TryLoad(path), null), _dir);
        Assert.Equal(["loss.png", "grad_norm.png"], written.Select(Path.GetFileName));
        foreach (string p in written) AssertRealPng(p);
    }
}

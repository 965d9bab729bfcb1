using DistillSharp.Reports.Encoder;
using DistillSharp.Reports.Plots;

namespace DistillSharp.Tests.Reports;

/// <summary>The frontier section survives report.json, renders in report.md and draws frontier.png.</summary>
public sealed class FrontierReportTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("frontier-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static RunReport Report(string? deployed) => ReportFixtures.HandMade() with
    {
        Frontier = new FrontierReport
        {
            Metric = "wordnet_retrieval.r10",
            Points =
            [
                new FrontierPoint { Variant = "teacher", Quality = 0.6, QualityRatio = 1, P50Ms = 10, FileBytes = 90_000_000, Pareto = true },
                new FrontierPoint { Variant = "s", Student = "s", Quality = 0.45, QualityRatio = 0.75, P50Ms = 0.01, FileBytes = 8_000_000, Pareto = true },
                new FrontierPoint { Variant = "l1", Student = "l1", Quality = 0.54, QualityRatio = 0.9, P50Ms = 3, FileBytes = 60_000_000, Pareto = true },
                new FrontierPoint { Variant = "l1_int8", Student = "l1", Quality = 0.5, QualityRatio = 0.83, P50Ms = 4, FileBytes = 16_000_000, Pareto = false },
            ],
            Selection = new SelectionReport
            {
                Constraint = "min_quality", Value = 0.9, Passed = deployed is null ? [] : ["l1"], Chosen = deployed, Deployed = deployed,
                Reason = deployed is null ? "none passes, so nothing was deployed to student/" : "student l1 deployed to student/",
            },
        },
    };

    [Fact]
    public void TheSectionRoundTripsThroughReportJson()
    {
        var report = Report("l1");
        string json = RunReportJson.Serialize(report);
        var again = RunReportJson.Parse(json);
        Assert.Equal(report.Frontier!.Points!, again.Frontier!.Points!);
        Assert.Equal(["l1"], again.Frontier.Selection!.Passed!);
        Assert.Equal("l1", again.Frontier.Selection.Deployed);
        Assert.Contains("\"quality_ratio\": 0.9", json);
        Assert.DoesNotContain("frontier", again.Variants.Keys);
    }

    [Fact]
    public void ReportMdSaysWhatWasDeployedOrThatNothingWas()
    {
        string md = ReportWriter.RenderMarkdown(Report("l1"), _dir);
        Assert.Contains("## Frontier", md);
        Assert.Contains("| l1_int8 | l1 | 0.5000 | 83.0% | 4.00 | 16.0 | no | no |", md);
        Assert.Contains("| l1 | l1 | 0.5400 | 90.0% | 3.00 | 60.0 | **yes** | yes |", md);
        Assert.Contains("**Deployed to `student/`: l1** (row `l1`). student l1 deployed to student/", md);
        Assert.Contains("**Nothing deployed to `student/`.** none passes", ReportWriter.RenderMarkdown(Report(null), _dir));
        Assert.DoesNotContain("## Frontier", ReportWriter.RenderMarkdown(ReportFixtures.HandMade(), _dir));
    }

    [Fact]
    public void FrontierPngIsDrawnOnlyForAFrontier()
    {
        string path = Path.Combine(_dir, "frontier.png");
        Assert.False(FrontierPlot.Write(ReportFixtures.HandMade(), path));
        Assert.False(File.Exists(path));
        Assert.True(FrontierPlot.Write(Report("l1"), path));
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, 0x50, 0x4E, 0x47], bytes[..4]);
        Assert.True(bytes.Length > 10_000, $"frontier.png is only {bytes.Length} bytes");
        var written = ReportPlots.WriteAll(new PlotInputs(Report(null), null, null), _dir);
        Assert.Contains(Path.Combine(_dir, "plots", "frontier.png"), written);
    }
}

using DistillSharp.Reports;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Tests.Reports;

/// <summary>report.md of <see cref="ReportFixtures.HandMade"/>; every expected number is worked out by hand in the comments.</summary>
public sealed class ReportWriterTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("reportmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static string Row(string markdown, string variant) =>
        markdown.Split('\n').Single(l => l.StartsWith($"| {variant} |", StringComparison.Ordinal));

    static string[] Cells(string row) => row.Trim().Trim('|').Split(" | ").Select(c => c.Trim()).ToArray();

    [Fact]
    public void SummaryRowsCarryTheNumbersAndTheRatiosAgainstTheTeacher()
    {
        string md = ReportWriter.RenderMarkdown(ReportFixtures.HandMade(), _dir);
        // Columns: variant, params, MB, R@1, R@10, MRR, F1, accuracy, agreement, p50, p99, seq/s, speed-up, size, R@10 %, F1 %.
        var teacher = Cells(Row(md, "teacher"));
        Assert.Equal(["teacher", "22.71 M", "100", "0.300", "0.600", "0.480", "0.900", "0.950", "—", "10.0", "12.0", "100",
                      "1.00×", "1.00×", "100.0%", "100.0%"], teacher);

        // student: speed-up 10/4 = 2.50×; size 25/100 = 0.25×; R@10 0.57/0.60 = 95.0%; F1 0.81/0.90 = 90.0%.
        var student = Cells(Row(md, "student"));
        Assert.Equal(["student", "11.00 M", "25.0", "0.285", "0.570", "0.456", "0.810", "0.950", "—", "4.00", "5.00", "250",
                      "2.50×", "0.25×", "95.0%", "90.0%"], student);

        // student_int8: 10/2 = 5.00×; 10/100 = 0.10×; 0.54/0.60 = 90.0%; no F1, so no F1 ratio.
        var int8 = Cells(Row(md, "student_int8"));
        Assert.Equal(["5.00×", "0.10×", "90.0%", "—"], int8[^4..]);
        Assert.Equal("—", int8[6]);

        // baseline only has params: every other cell is missing.
        var baseline = Cells(Row(md, "baseline"));
        Assert.Equal("11.00 M", baseline[1]);
        Assert.All(baseline[2..], c => Assert.Equal("—", c));
    }

    [Fact]
    public void TargetsSayMetOrMissedAndByHowMuch()
    {
        string md = ReportWriter.RenderMarkdown(ReportFixtures.HandMade(), _dir);
        // 0.95 vs goal ≥ 0.90: met by +0.05, 0.05/0.90 = 5.6%.
        Assert.Contains("| student R@10 / teacher | ≥ 0.9 | 0.95 | met | +0.05 (+5.6%) | — |", md);
        // 2.0 ms vs goal ≤ 1.5 ms: missed by 0.5 ms, 0.5/1.5 = 33.3%.
        Assert.Contains("| student_int8 p50 | ≤ 1.50 ms | 2.00 ms | **missed** | −0.5 ms (−33.3%) | shared cores |", md);
        Assert.Contains("1 of 2 targets met, 1 missed.", md);
    }

    [Fact]
    public void DistillationRunInfoAndNotesAreListed()
    {
        string md = ReportWriter.RenderMarkdown(ReportFixtures.HandMade(), _dir);
        Assert.Contains("config `default` · 2025-11-28 · Test CPU (2 cores; avx2, avx512bw)", md);
        Assert.Contains("- optimizer steps: 1,200 (all stages completed)", md);
        Assert.Contains("- wall time: 10 min 00 s (2.00 steps/s)", md);          // 1200 steps / 600 s
        Assert.Contains("- teacher-output cache: 900 hits, 100 misses (90.0% hits)", md);
        Assert.Contains("- hand-made for tests", md);
    }

    [Fact]
    public void OnlyPlotsThatExistAreLinked()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "plots"));
        File.WriteAllBytes(Path.Combine(_dir, "plots", "loss.png"), [1]);
        string md = ReportWriter.RenderMarkdown(ReportFixtures.HandMade(), _dir);
        Assert.Contains("![Loss](plots/loss.png)", md);
        Assert.DoesNotContain("lr.png", md);
    }

    [Fact]
    public void UnknownMetricsGetTheirOwnTableAndEmptyReportsSaySo()
    {
        var report = ReportFixtures.HandMade();
        report.Variants["teacher"].Quality!["perplexity"] = new() { ["ppl"] = 12.5 };
        string md = ReportWriter.RenderMarkdown(report, _dir);
        Assert.Contains("| teacher | perplexity | ppl | 12.5 |", md);

        string empty = ReportWriter.RenderMarkdown(new RunReport(), _dir);
        Assert.Contains("No model variants", empty);
        Assert.DoesNotContain("## Summary", empty);
    }

    [Fact]
    public void TrainingSectionSummarisesEachStage()
    {
        string metricsPath = Path.Combine(_dir, "metrics.jsonl");
        ReportFixtures.WriteMetrics(metricsPath);
        string path = ReportWriter.WriteMarkdown(new RunReport(), _dir, MetricsTable.TryLoad(metricsPath));
        string md = File.ReadAllText(path);
        Assert.Equal(Path.Combine(_dir, "report.md"), path);
        Assert.Matches(@"\| align \| 1–60 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|", md);
        Assert.Matches(@"\| task \| 61–80 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|", md);
    }
}

using DistillSharp.Reports.Encoder;

namespace DistillSharp.Tests.Reports;

/// <summary>`distill report RUN_DIR` in-process: exit codes, messages and the paths it prints.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class ReportCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("reportcli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Output, string Error) RunCli(params string[] args) => CliHarness.Run(args);

    [Fact]
    public void MissingFolderIsBadInput()
    {
        string missing = Path.Combine(_dir, "no-such-run");
        var (code, _, error) = RunCli("report", missing);
        Assert.Equal(2, code);
        Assert.Contains(missing, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void FolderWithNeitherFileIsBadInput()
    {
        var (code, _, error) = RunCli("report", _dir);
        Assert.Equal(2, code);
        Assert.Contains("report.json", error);
        Assert.Contains("metrics.jsonl", error);
        Assert.False(File.Exists(Path.Combine(_dir, "report.md")));
    }

    [Fact]
    public void MissingArgumentIsBadInput() => Assert.Equal(2, RunCli("report").Code);

    [Fact]
    public void MalformedReportIsBadInputNamingTheFile()
    {
        File.WriteAllText(Path.Combine(_dir, "report.json"), "{ not json");
        var (code, _, error) = RunCli("report", _dir);
        Assert.Equal(2, code);
        Assert.Contains(Path.Combine(_dir, "report.json"), error);
    }

    [Fact]
    public void FullRunWritesReportAndPlotsAndPrintsThePaths()
    {
        RunReportJson.Save(ReportFixtures.HandMade(), Path.Combine(_dir, "report.json"));
        ReportFixtures.WriteMetrics(Path.Combine(_dir, "metrics.jsonl"));

        var (code, output, error) = RunCli("report", _dir);

        Assert.True(code == 0, error);
        Assert.Equal("", error);
        string[] lines = output.Trim().Split('\n');
        Assert.Equal("wrote " + Path.Combine(_dir, "report.md"), lines[0]);
        Assert.Contains("wrote " + Path.Combine(_dir, "plots", "loss.png"), lines);
        Assert.Contains("wrote " + Path.Combine(_dir, "plots", "quality_vs_latency.png"), lines);
        Assert.DoesNotContain(lines, l => l.Contains("baseline_vs_student"));   // no baseline/metrics.jsonl
        Assert.Contains("![Loss](plots/loss.png)", File.ReadAllText(Path.Combine(_dir, "report.md")));
    }

    [Fact]
    public void MetricsAloneStillMakeAReportWithAWarning()
    {
        ReportFixtures.WriteMetrics(Path.Combine(_dir, "metrics.jsonl"));
        File.AppendAllText(Path.Combine(_dir, "metrics.jsonl"), "{\"step\": 81, \"lo");   // torn last line of a killed run

        var (code, output, error) = RunCli("report", _dir);

        Assert.Equal(0, code);
        Assert.Contains("report.json not found", error);
        Assert.Contains("skipped 1 malformed line", error);
        Assert.Contains("plots", output);
        Assert.Contains("## Training", File.ReadAllText(Path.Combine(_dir, "report.md")));
    }
}

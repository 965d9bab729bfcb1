namespace DistillSharp.Reports.Encoder;

/// <summary>What <see cref="ReportGenerator.Generate"/> wrote and what it had to leave out.</summary>
/// <param name="Written">Paths of report.md and the PNGs, in the order written.</param>
/// <param name="Warnings">Missing inputs and skipped lines, one sentence each.</param>
public sealed record ReportOutput(IReadOnlyList<string> Written, IReadOnlyList<string> Warnings);

/// <summary>
/// Regenerates report.md and plots/*.png of a run folder from its report.json and metrics.jsonl
/// (and <c>baseline/metrics.jsonl</c> when the baseline was trained). Either file may be missing;
/// both missing is bad input.
/// </summary>
public static class ReportGenerator
{
    /// <summary>report.json in a run folder.</summary>
    public const string ReportFile = "report.json";
    /// <summary>metrics.jsonl in a run folder.</summary>
    public const string MetricsFile = "metrics.jsonl";
    /// <summary>The baseline's sub-folder of a run folder.</summary>
    public const string BaselineFolder = "baseline";

    /// <summary>Writes report.md and the plots; throws <see cref="DistillSharpException"/> when the folder or both inputs are missing.</summary>
    public static ReportOutput Generate(string runDir)
    {
        if (!Directory.Exists(runDir))
            throw new DistillSharpException($"run folder not found: {runDir}");
        string reportPath = Path.Combine(runDir, ReportFile);
        string metricsPath = Path.Combine(runDir, MetricsFile);
        bool hasReport = File.Exists(reportPath);
        var metrics = MetricsTable.TryLoad(metricsPath);
        if (!hasReport && metrics is null)
            throw new DistillSharpException($"{runDir} has neither {ReportFile} nor {MetricsFile}; is it a run folder (the --out of 'distill run')?");

        var warnings = new List<string>();
        var report = hasReport ? RunReportJson.Load(reportPath) : null;
        if (report is null) warnings.Add($"{reportPath} not found: the report shows training metrics only");
        if (metrics is null) warnings.Add($"{metricsPath} not found: no training plots");
        var baseline = MetricsTable.TryLoad(Path.Combine(runDir, BaselineFolder, MetricsFile));
        foreach (var table in new[] { metrics, baseline })
            if (table is { BadLines: > 0 }) warnings.Add($"{table.Path}: skipped {table.BadLines} malformed line(s)");

        var written = new List<string>(ReportPlots.WriteAll(new PlotInputs(report, metrics, baseline), runDir));
        written.Insert(0, ReportWriter.WriteMarkdown(report ?? new RunReport(), runDir, metrics));
        return new ReportOutput(written, warnings);
    }
}

using DistillSharp.Reports.Encoder;
using DistillSharp.Reports.Plots;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Reports.Classifier;

/// <summary>
/// Writes report.md and plots/*.png of a classification run folder from its report.json and the
/// training metrics (metrics.jsonl of the student, baseline_ce/metrics.jsonl): confusion matrices of
/// the teacher and the student, the reliability diagram of every variant, the student's loss curve,
/// and student vs baseline_ce losses.
/// </summary>
public static class ClassifyReportGenerator
{
    /// <summary>The baseline's sub-folder of a run folder.</summary>
    public const string BaselineFolder = "baseline_ce";

    /// <summary>Writes everything; returns what was written and what was left out.</summary>
    public static ReportOutput Generate(string runDir)
    {
        string reportPath = Path.Combine(runDir, ReportGenerator.ReportFile);
        if (!File.Exists(reportPath)) throw new DistillSharpException($"{runDir} has no {ReportGenerator.ReportFile}");
        var report = ClassifyReport.Load(reportPath);
        var written = new List<string>();
        var warnings = new List<string>();
        string plots = Path.Combine(runDir, "plots");
        foreach (string name in new[] { "teacher", "student" })
        {
            if (!report.Variants.TryGetValue(name, out var v)) continue;
            string path = Path.Combine(plots, $"confusion_{name}.png");
            ConfusionMatrixPlot.Write(report.Data.Labels, ToMatrix(v.Confusion), $"Confusion matrix (test, row-normalised): {name}", path);
            written.Add(path);
        }
        var series = ClassifyReportWriter.Order.Where(n => report.Variants.ContainsKey(n) && !n.EndsWith("_onnxruntime"))
            .Select(n =>
            {
                var bins = report.Variants[n].Reliability.Where(b => b.Count > 0).ToList();
                return new ReliabilitySeries(n, bins.Select(b => b.Confidence).ToArray(), bins.Select(b => b.Accuracy).ToArray(),
                    report.Variants[n].Metric("ece") ?? double.NaN);
            }).ToList();
        string reliability = Path.Combine(plots, "reliability.png");
        if (ReliabilityPlot.Write(series, reliability)) written.Add(reliability);
        var metrics = MetricsTable.TryLoad(Path.Combine(runDir, ReportGenerator.MetricsFile));
        var baseline = MetricsTable.TryLoad(Path.Combine(runDir, BaselineFolder, ReportGenerator.MetricsFile));
        if (metrics is null) warnings.Add($"{runDir}/{ReportGenerator.MetricsFile} not found: no loss plot");
        else if (LossPlot.Write(metrics, Path.Combine(plots, "loss.png"))) written.Add(Path.Combine(plots, "loss.png"));
        if (metrics is not null && baseline is not null && BaselineComparisonPlot.Write(metrics, baseline, null, Path.Combine(plots, "baseline_vs_student.png")))
            written.Add(Path.Combine(plots, "baseline_vs_student.png"));
        string md = Path.Combine(runDir, "report.md");
        AtomicFile.WriteText(md, ClassifyReportWriter.Markdown(report, written));
        written.Insert(0, md);
        return new ReportOutput(written, warnings);
    }

    static long[,] ToMatrix(long[][] rows)
    {
        int n = rows.Length;
        var m = new long[n, n];
        for (int a = 0; a < n; a++)
        {
            if (rows[a].Length != n) throw new DistillSharpException($"report.json: confusion row {a} has {rows[a].Length} values for {n} labels");
            for (int p = 0; p < n; p++) m[a, p] = rows[a][p];
        }
        return m;
    }
}

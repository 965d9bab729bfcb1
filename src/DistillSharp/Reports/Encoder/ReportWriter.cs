using System.Text;
using static DistillSharp.Reports.ReportFormat;

namespace DistillSharp.Reports.Encoder;

/// <summary>
/// Writes report.md: the variant summary with ratios against the teacher, the other quality
/// metrics, the targets (met or missed, and by how much), distillation facts, per-stage training
/// numbers from metrics.jsonl, links to the plots in plots/ and the notes.
/// </summary>
public static class ReportWriter
{
    /// <summary>Variants printed first, in this order; others follow in file order.</summary>
    public static readonly IReadOnlyList<string> CanonicalVariants = ["teacher", "student", "student_int8", "baseline"];

    /// <summary>The quality metrics that get their own summary column: header, task, metric.</summary>
    public static readonly IReadOnlyList<(string Header, string Task, string Metric)> QualityColumns =
    [
        ("R@1", "wordnet_retrieval", "r1"), ("R@10", "wordnet_retrieval", "r10"), ("MRR", "wordnet_retrieval", "mrr"),
        ("F1", "spam_f1", "f1"), ("accuracy", "spam_f1", "accuracy"), ("agreement", "agreement", "mean_cosine"),
    ];

    /// <summary>Writes <c>runDir/report.md</c> and returns its path. Plots are linked when they exist in <c>runDir/plots/</c>.</summary>
    public static string WriteMarkdown(RunReport report, string runDir, MetricsTable? metrics = null)
    {
        string path = Path.Combine(runDir, "report.md");
        File.WriteAllText(path, RenderMarkdown(report, runDir, metrics));
        return path;
    }

    /// <summary>The text of report.md.</summary>
    public static string RenderMarkdown(RunReport report, string runDir, MetricsTable? metrics = null)
    {
        var md = new StringBuilder();
        md.AppendLine("# DistillSharp run report").AppendLine();
        RunLine(md, report.Run);
        if (report.Variants.Count > 0)
        {
            Summary(md, report);
            OtherMetrics(md, report);
        }
        else
        {
            md.AppendLine("_No model variants: report.json is missing or lists none, so only training metrics are shown._").AppendLine();
        }
        if (report.Frontier is { } frontier) FrontierSection.Write(md, frontier);
        if (report.Targets is { Count: > 0 } targets) ReportSections.Targets(md, targets);
        if (report.Distillation is { } d) ReportSections.Distillation(md, d);
        if (metrics != null) ReportSections.Training(md, metrics);
        Plots(md, runDir);
        if (report.Notes is { Count: > 0 } notes)
        {
            md.AppendLine("## Notes").AppendLine();
            foreach (string note in notes) md.AppendLine("- " + note.Replace("\n", " "));
            md.AppendLine();
        }
        return md.ToString();
    }

    /// <summary>Variant names: the canonical ones present first, then the rest in file order.</summary>
    public static IReadOnlyList<string> OrderedVariants(RunReport report) =>
        CanonicalVariants.Where(report.Variants.ContainsKey)
            .Concat(report.Variants.Keys.Where(k => !CanonicalVariants.Contains(k))).ToList();

    static void RunLine(StringBuilder md, RunInfo? run)
    {
        if (run is null) return;
        var parts = new List<string>();
        if (run.Config != null) parts.Add($"config `{run.Config}`");
        if (run.Date != null) parts.Add(run.Date);
        if (run.Machine is { } m)
        {
            string cores = m.Cores is int c ? $"{c} cores" : "";
            string flags = m.Flags is { Count: > 0 } f ? string.Join(", ", f) : "";
            string detail = string.Join("; ", new[] { cores, flags }.Where(s => s.Length > 0));
            parts.Add((m.Cpu ?? "unknown CPU") + (detail.Length > 0 ? $" ({detail})" : ""));
        }
        if (parts.Count > 0) md.AppendLine(string.Join(" · ", parts)).AppendLine();
    }

    static void Summary(StringBuilder md, RunReport report)
    {
        var teacher = report.Variant("teacher");
        md.AppendLine("## Summary").AppendLine();
        var headers = new List<string> { "variant", "params", "size (MB)" };
        headers.AddRange(QualityColumns.Select(q => q.Header));
        headers.AddRange(["p50 (ms)", "p99 (ms)", "seq/s", "speed-up", "size ratio", "R@10 vs teacher", "F1 vs teacher"]);
        md.AppendLine("| " + string.Join(" | ", headers) + " |");
        md.AppendLine("|---|" + string.Concat(Enumerable.Repeat("--:|", headers.Count - 1)));
        foreach (string name in OrderedVariants(report))
        {
            var v = report.Variants[name];
            var cells = new List<string> { Cell(name), Params(v.Params), Megabytes(v.FileBytes) };
            cells.AddRange(QualityColumns.Select(q => Fixed(v.Metric(q.Task, q.Metric))));
            cells.Add(Auto(v.LatencyMs?.P50));
            cells.Add(Auto(v.LatencyMs?.P99));
            cells.Add(Auto(v.Throughput?.SequencesPerS));
            cells.Add(Times(Ratio(teacher?.LatencyMs?.P50, v.LatencyMs?.P50)));
            cells.Add(Times(Ratio(v.FileBytes, teacher?.FileBytes)));
            cells.Add(Percent(Ratio(v.Metric("wordnet_retrieval", "r10"), teacher?.Metric("wordnet_retrieval", "r10"))));
            cells.Add(Percent(Ratio(v.Metric("spam_f1", "f1"), teacher?.Metric("spam_f1", "f1"))));
            md.AppendLine("| " + string.Join(" | ", cells) + " |");
        }
        md.AppendLine();
        md.AppendLine("Latency at batch 1, seq/s at batch 32; MB = 10⁶ bytes. Against the teacher: speed-up = teacher p50 / variant p50, "
                      + "size ratio = variant file / teacher file, quality = variant / teacher. "
                      + "agreement = mean cosine between the variant's and the teacher's embeddings.");
        md.AppendLine();
    }

    static void OtherMetrics(StringBuilder md, RunReport report)
    {
        var rows = new List<string>();
        foreach (string name in OrderedVariants(report))
        {
            foreach (var (task, metrics) in report.Variants[name].Quality ?? [])
            {
                foreach (var (metric, value) in metrics ?? [])
                {
                    if (QualityColumns.Any(q => q.Task == task && q.Metric == metric)) continue;
                    rows.Add($"| {Cell(name)} | {Cell(task)} | {Cell(metric)} | {Auto(value)} |");
                }
            }
        }
        if (rows.Count == 0) return;
        md.AppendLine("### Other quality metrics").AppendLine();
        md.AppendLine("| variant | task | metric | value |").AppendLine("|---|---|---|--:|");
        foreach (string row in rows) md.AppendLine(row);
        md.AppendLine();
    }

    static void Plots(StringBuilder md, string runDir)
    {
        var present = ReportPlots.Titles
            .Where(p => File.Exists(Path.Combine(runDir, "plots", p.File)))
            .ToList();
        if (present.Count == 0) return;
        md.AppendLine("## Plots").AppendLine();
        foreach (var (file, title) in present)
            md.AppendLine($"### {title}").AppendLine().AppendLine($"![{title}](plots/{file})").AppendLine();
    }
}

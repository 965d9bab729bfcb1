using System.Text;
using static DistillSharp.Reports.ReportFormat;

namespace DistillSharp.Reports.Classifier;

/// <summary>report.md of a classification run, from its <see cref="ClassifyReport"/>.</summary>
public static class ClassifyReportWriter
{
    /// <summary>Variants in the order report.md lists them.</summary>
    public static readonly string[] Order = ["teacher", "student", "student_int8", "student_onnxruntime", "student_int8_onnxruntime", "baseline_ce"];

    /// <summary>What each variant is, one line.</summary>
    public static readonly IReadOnlyDictionary<string, string> Descriptions = new Dictionary<string, string>
    {
        ["teacher"] = "teacher, fine-tuned (TorchSharp fp32)",
        ["student"] = "student, distilled (TorchSharp fp32)",
        ["student_int8"] = "student_int8 (our C# INT8 runtime)",
        ["student_onnxruntime"] = "student.onnx on ONNX Runtime (fp32)",
        ["student_int8_onnxruntime"] = "student-int8.onnx on ONNX Runtime",
        ["baseline_ce"] = "baseline_ce: same student, CE only (TorchSharp fp32)",
    };

    /// <summary>The markdown text.</summary>
    public static string Markdown(ClassifyReport r, IReadOnlyList<string> plots)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Classification run: {r.Run.Config}");
        md.AppendLine();
        md.AppendLine($"Started {r.Run.Started}, {Fixed(r.Run.Seconds / 60, 1)} min, {r.Run.Threads} thread(s){(r.Run.MaxSteps is long m ? $", --max-steps {m}" : "")}; " +
                      $"load average at the end: {r.Run.LoadAverage ?? Missing}.");
        md.AppendLine();
        var teacher = r.Variants.GetValueOrDefault("teacher");
        md.AppendLine("| variant | params | size | accuracy [95% CI] | macro-F1 [95% CI] | ECE | p50 batch 1 (ms) | p99 (ms) | faster than teacher | seq/s batch N |");
        md.AppendLine("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (string name in Order.Where(r.Variants.ContainsKey).Concat(r.Variants.Keys.Except(Order)))
        {
            var v = r.Variants[name];
            double? p50 = v.LatencyMs?.GetValueOrDefault("p50");
            double? teacherP50 = teacher?.LatencyMs?.GetValueOrDefault("p50");
            md.AppendLine($"| {Descriptions.GetValueOrDefault(name, name)} | {Params(v.Params)} | {Megabytes(v.FileBytes)} MB | " +
                          $"{Interval(v, "accuracy")} | {Interval(v, "macro_f1")} | {Fixed(v.Metric("ece"))} | {Auto(p50)} | " +
                          $"{Auto(v.LatencyMs?.GetValueOrDefault("p99"))} | {Times(Ratio(teacherP50, p50))} | {Auto(v.Throughput?.GetValueOrDefault("sequences_per_s"))} |");
        }
        md.AppendLine();
        if (r.BenchMethod is { } bench) md.AppendLine($"Speed: {bench}").AppendLine();
        if (r.StudentVsBaseline is { } d)
        {
            md.AppendLine($"**{d.Model} − {d.Baseline}, macro-F1:** {Signed(d.Difference)} (paired bootstrap 95% interval [{Signed(d.Low)}, {Signed(d.High)}]; " +
                          $"{(d.Low > 0 ? "above 0" : d.High < 0 ? "below 0" : "contains 0")}).");
            md.AppendLine();
        }
        WriteData(md, r.Data);
        WritePerClass(md, r);
        if (r.Phases.Count > 0)
        {
            md.AppendLine("## Phases").AppendLine();
            md.AppendLine("| phase | steps | wall (s) | s/step | CPU (s) | last loss | cached |");
            md.AppendLine("|---|--:|--:|--:|--:|--:|---|");
            foreach (var p in r.Phases)
                md.AppendLine($"| {p.Name} | {p.Steps} | {Auto(p.Seconds)} | {Auto(p.SecondsPerStep)} | {Auto(p.CpuSeconds)} | {Auto(p.FinalLoss)} | {(p.Cached ? "yes" : "")} |");
            md.AppendLine();
        }
        if (plots.Count > 0)
        {
            md.AppendLine("## Plots").AppendLine();
            foreach (string plot in plots) md.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}](plots/{Path.GetFileName(plot)})");
            md.AppendLine();
        }
        if (r.Notes.Count > 0)
        {
            md.AppendLine("## Notes").AppendLine();
            foreach (string note in r.Notes) md.AppendLine($"- {note}");
        }
        return md.ToString();
    }

    static void WriteData(StringBuilder md, ClassifyDataReport d)
    {
        md.AppendLine($"## Data: {d.Source}").AppendLine();
        int train = d.ClassCounts.Sum(c => c.Train), dev = d.ClassCounts.Sum(c => c.Dev), test = d.ClassCounts.Sum(c => c.Test);
        md.AppendLine($"{d.Labels.Count} labels; {train:N0} train / {dev:N0} dev / {test:N0} test texts; the student was distilled on {d.KdCorpus:N0} texts " +
                      $"({d.KdCorpusDropped:N0} unlabelled texts dropped for equalling a dev or test text). Leakage check: none of the {test:N0} test texts equals " +
                      $"any of {d.LeakageChecked:N0} training texts.");
        md.AppendLine();
        md.AppendLine($"Texts longer than {d.MaxLength} tokens (truncated to it): " +
                      string.Join(", ", d.Truncated.Select(kv => $"{kv.Key} {kv.Value:N0}")) + ".");
        md.AppendLine();
        foreach (string note in d.Notes) md.AppendLine($"- {note}");
        md.AppendLine();
    }

    static void WritePerClass(StringBuilder md, ClassifyReport r)
    {
        var shown = Order.Where(n => r.Variants.ContainsKey(n) && !n.EndsWith("_onnxruntime")).ToList();
        md.AppendLine("## Class counts and per-class F1 (test)").AppendLine();
        md.AppendLine($"| label | train | dev | test | {string.Join(" | ", shown)} |");
        md.AppendLine($"|---|--:|--:|--:|{string.Concat(shown.Select(_ => "--:|"))}");
        foreach (var c in r.Data.ClassCounts)
            md.AppendLine($"| {c.Label} | {c.Train:N0} | {c.Dev:N0} | {c.Test:N0} | " +
                          string.Join(" | ", shown.Select(n => Fixed(r.Variants[n].PerClassF1.GetValueOrDefault(c.Label, double.NaN)))) + " |");
        md.AppendLine();
    }

    static string Interval(ClassifierVariantReport v, string metric) => v.Metric(metric) is double x
        ? $"{Fixed(x)} [{Fixed(v.Metric(metric + "_low"))}, {Fixed(v.Metric(metric + "_high"))}]"
        : Missing;

    static string Signed(double x) => (x >= 0 ? "+" : "") + Fixed(x);
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using DistillSharp.Evaluation;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization.Encoder;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>One measured variant of a sweep.</summary>
/// <param name="Observer">Activation observer ("—" for fp32 and dynamic, which calibrate nothing).</param>
/// <param name="Method">"fp32", "ptq-static", "ptq-dynamic" or "qat".</param>
/// <param name="Quality">task → metric → value.</param>
/// <param name="OutputRelError">‖ŷ − y‖ / ‖y‖ of the sentence embeddings against fp32 (0 for fp32).</param>
/// <param name="SizeRatio">INT8 folder bytes / fp32 weight bytes (1 for fp32).</param>
/// <param name="Seconds">Wall time of quantization + evaluation.</param>
public sealed record SweepRow(string Observer, string Method, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Quality,
    double OutputRelError, double SizeRatio, double Seconds);

/// <summary>
/// Observers × {PTQ static, PTQ dynamic, QAT} on one model, each variant evaluated on the real tasks
/// (its Linears simulated with the exact INT8 rounding). Dynamic PTQ calibrates nothing (weights are
/// always symmetric per output channel from max |w|, activations per token at run time), so it is
/// measured once. Rows go to <c>sweep.jsonl</c> as they finish and to <c>sweep.md</c> at the end.
/// </summary>
public static class QuantizeSweep
{
    /// <summary>Evaluation tasks of the sweep.</summary>
    public static readonly string[] Tasks = ["wordnet-retrieval", "spam-f1"];

    /// <summary>Runs the sweep; <paramref name="qatObservers"/> are the observers that also get a QAT row.</summary>
    public static IReadOnlyList<SweepRow> Run(QuantizeJobOptions options, IReadOnlyList<string> observers, IReadOnlyList<string> qatObservers,
        IReadOnlyList<string> corpus, EvalData data, IReadOnlyList<string> tasks, TextWriter log)
    {
        Directory.CreateDirectory(options.OutDir);
        string jsonl = Path.Combine(options.OutDir, "sweep.jsonl");
        File.WriteAllText(jsonl, "");
        var rows = new List<SweepRow>();
        void Add(SweepRow row)
        {
            rows.Add(row);
            File.AppendAllText(jsonl, JsonSerializer.Serialize(row) + "\n");
            log.WriteLine($"sweep: {row.Method} {row.Observer}: {Describe(row)}");
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        using (var fp32 = ModelLoader.Load(options.Model, options.MaxLength))
            Add(new SweepRow("—", "fp32", VariantMeasurer.Quality(t => fp32.Embed(t), tasks, data, null, log), 0, 1, clock.Elapsed.TotalSeconds));
        var variants = observers.Select(o => (o, "ptq-static", options with { Observer = o, Mode = "static" }))
            .Append(("—", "ptq-dynamic", options with { Mode = "dynamic" }))
            .Concat(qatObservers.Select(o => (o, "qat", options with { Observer = o, Qat = true })));
        foreach (var (observer, method, o) in variants)
        {
            clock.Restart();
            using var encoder = ModelLoader.Load(o.Model, o.MaxLength);
            var job = o with { OutDir = Path.Combine(options.OutDir, $"{method}-{observer.Replace("—", "none")}") };
            var result = QuantizeJob.Run(job, encoder, corpus, log);
            using var simulated = EncoderQuantizer.Simulated(encoder, result.Quantized);
            var quality = VariantMeasurer.Quality(t => simulated.Embed(t), tasks, data, null, log);
            Add(new SweepRow(observer, method, quality, result.OutputRelError, result.SizeRatio, clock.Elapsed.TotalSeconds));
        }
        File.WriteAllText(Path.Combine(options.OutDir, "sweep.md"), ToMarkdown(rows));
        return rows;
    }

    /// <summary>The rows as a markdown table with the relative drop of each metric against fp32.</summary>
    public static string ToMarkdown(IReadOnlyList<SweepRow> rows)
    {
        var fp32 = rows.FirstOrDefault(r => r.Method == "fp32");
        var metrics = rows.SelectMany(r => r.Quality.SelectMany(t => t.Value.Keys.Select(m => (Task: t.Key, Metric: m)))).Distinct()
            .Where(x => x.Metric is "r10" or "mrr" or "f1").ToList();
        var sb = new StringBuilder("| observer | method | " + string.Join(" | ", metrics.Select(m => $"{m.Task} {m.Metric} (Δ%)")) +
            " | rel. output error | size / fp32 |\n|---|---|" + string.Concat(metrics.Select(_ => "--:|")) + "--:|--:|\n");
        foreach (var r in rows)
        {
            sb.Append(CultureInfo.InvariantCulture, $"| {r.Observer} | {r.Method} | ");
            foreach (var (task, metric) in metrics)
            {
                double v = r.Quality.TryGetValue(task, out var t) && t.TryGetValue(metric, out var x) ? x : double.NaN;
                double? reference = fp32?.Quality.GetValueOrDefault(task)?.GetValueOrDefault(metric);
                string drop = reference is double f && r != fp32 ? string.Format(CultureInfo.InvariantCulture, " ({0:+0.00;−0.00;0.00})", 100 * (v - f) / f) : "";
                sb.Append(CultureInfo.InvariantCulture, $"{v:F4}{drop} | ");
            }
            sb.Append(CultureInfo.InvariantCulture, $"{r.OutputRelError:P2} | {r.SizeRatio:F3} |\n");
        }
        return sb.ToString();
    }

    static string Describe(SweepRow r) => string.Join(", ", r.Quality.SelectMany(t => t.Value.Select(m => $"{t.Key}.{m.Key} {m.Value:F4}")))
        + string.Format(CultureInfo.InvariantCulture, ", rel. error {0:P2}, size {1:F3}, {2:F0} s", r.OutputRelError, r.SizeRatio, r.Seconds);
}

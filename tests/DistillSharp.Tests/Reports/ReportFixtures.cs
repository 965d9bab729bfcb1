using DistillSharp.Distillation;
using DistillSharp.Reports.Encoder;

namespace DistillSharp.Tests.Reports;

/// <summary>Hand-made reports and synthetic metrics files (written through the real <see cref="MetricsLog"/>).</summary>
static class ReportFixtures
{
    /// <summary>
    /// Round numbers so the ratios can be checked by hand: teacher p50 10 ms, 100 MB, R@10 0.60, F1 0.90;
    /// student p50 4 ms, 25 MB, R@10 0.57, F1 0.81; student_int8 p50 2 ms, 10 MB, R@10 0.54, no F1; baseline partly null.
    /// </summary>
    public static RunReport HandMade() => new()
    {
        Run = new RunInfo
        {
            Config = "default", Date = "2025-11-28",
            Machine = new MachineInfo { Cpu = "Test CPU", Cores = 2, Flags = ["avx2", "avx512bw"] },
        },
        Variants = new OrderedDictionary<string, VariantReport>
        {
            ["teacher"] = Variant(22_713_216, 100_000_000, r10: 0.60, f1: 0.90, p50: 10, p99: 12, seqs: 100),
            ["student"] = Variant(11_000_000, 25_000_000, r10: 0.57, f1: 0.81, p50: 4, p99: 5, seqs: 250),
            ["student_int8"] = Variant(11_000_000, 10_000_000, r10: 0.54, f1: null, p50: 2, p99: 3, seqs: 600),
            ["baseline"] = new VariantReport { Params = 11_000_000 },
        },
        Targets =
        [
            new TargetResult { Name = "student R@10 / teacher", Goal = 0.90, Measured = 0.95 },
            new TargetResult { Name = "student_int8 p50", Goal = 1.5, Measured = 2.0, Comparison = TargetComparison.AtMost, Unit = "ms", Note = "shared cores" },
        ],
        Distillation = new DistillationSummary { Steps = 1200, Completed = true, SkippedSteps = 1, Seconds = 600, CacheHits = 900, CacheMisses = 100 },
        Notes = ["hand-made for tests"],
    };

    static VariantReport Variant(long parameters, long bytes, double r10, double? f1, double p50, double p99, double seqs) => new()
    {
        Params = parameters, FileBytes = bytes,
        Quality = new()
        {
            ["wordnet_retrieval"] = new() { ["r1"] = r10 / 2, ["r10"] = r10, ["mrr"] = r10 * 0.8 },
            ["spam_f1"] = new() { ["f1"] = f1, ["accuracy"] = f1 is null ? null : 0.95 },
        },
        LatencyMs = new LatencyReport { P50 = p50, P99 = p99 },
        Throughput = new ThroughputReport { SequencesPerS = seqs },
    };

    /// <summary>
    /// Two stages ("align" 1–60, "task" 61–80) logged every 5 steps with two loss terms per stage,
    /// a non-finite loss at step 45 (logged as null), activation statistics for 3 layers every 20 steps.
    /// </summary>
    public static void WriteMetrics(string path, bool activations = true)
    {
        var rng = new Random(7);
        using var log = new MetricsLog(path);
        long step = 0;
        foreach (var (stage, steps, terms) in new[] { ("align", 60, new[] { "hidden_mse", "embedding_cosine" }), ("task", 20, new[] { "kl", "task_ce" }) })
        {
            for (int s = 1; s <= steps; s++)
            {
                step++;
                if (step % 5 != 0) continue;
                var record = new Dictionary<string, object?>
                {
                    ["step"] = step, ["stage"] = stage, ["stage_step"] = s,
                    ["lr"] = 1e-4 * s / steps, ["grad_norm"] = 0.5 + rng.NextDouble(),
                    ["tokens_per_s"] = 5000.0, ["step_s"] = 0.1, ["epoch"] = 0, ["skipped"] = step >= 45 ? 1 : 0,
                };
                double total = 0;
                for (int t = 0; t < terms.Length; t++)
                {
                    double v = (t + 1) * Math.Exp(-4.0 * s / steps) * (1 + 0.1 * rng.NextDouble());
                    record["loss/" + terms[t]] = v;
                    total += v;
                }
                record["loss"] = step == 45 ? double.NaN : total;
                if (activations && step % 20 == 0)
                    for (int l = 0; l < 3; l++)
                    {
                        record[$"act/{l}/mean"] = 0.0;
                        record[$"act/{l}/std"] = 0.5 + l;
                        record[$"act/{l}/absmax"] = 4.0 + 3 * l + step / 10.0;
                    }
                log.Write(record);
            }
        }
    }
}

using DistillSharp.Benchmarks;
using DistillSharp.Benchmarks.Encoder;
using DistillSharp.Evaluation.Classifier;
using DistillSharp.Reports.Classifier;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Pipeline.Classifier;

/// <summary>One variant to measure: how it classifies texts and how one forward pass of a token batch runs.</summary>
/// <param name="Name">Report key (teacher, student, student_int8, …).</param>
/// <param name="Runtime">Which runtime computes it.</param>
/// <param name="Probabilities">Texts → class probabilities.</param>
/// <param name="Forward">One forward pass of a batch (outputs dropped), for timing.</param>
/// <param name="Params">Parameters.</param>
/// <param name="FileBytes">Bytes of its files.</param>
/// <param name="Folder">Where it was saved (relative to the run folder).</param>
public sealed record ClassifierVariant(string Name, string Runtime, Func<IReadOnlyList<string>, float[][]> Probabilities,
    Action<TokenBatch> Forward, long? Params, long? FileBytes, string? Folder);

/// <summary>Times classifier variants side by side and builds their report rows.</summary>
public static class ClassifierVariants
{
    /// <summary>
    /// Batch-1 latency and batch-<paramref name="batchN"/> throughput of every variant on full
    /// <paramref name="seqLen"/>-token batches, each measured in interleaved rounds (one call of
    /// every variant per round) so that load changes on a shared machine hit all alike.
    /// </summary>
    public static IReadOnlyDictionary<string, (BenchResult Batch1, BenchResult BatchN)> Bench(IReadOnlyList<ClassifierVariant> variants,
        BertTextTokenizer tokenizer, int seqLen, int batchN, int runs)
    {
        var one = EncoderSpeed.FullBatch(tokenizer, 1, seqLen);
        var many = EncoderSpeed.FullBatch(tokenizer, batchN, seqLen);
        var b1 = LatencyBenchmark.RunInterleaved(variants.Select(v => (v.Name, (Action)(() => v.Forward(one)))).ToList(), 1, seqLen,
            new BenchOptions(Warmup: 5, Runs: runs, MaxSeconds: 120));
        var bn = LatencyBenchmark.RunInterleaved(variants.Select(v => (v.Name, (Action)(() => v.Forward(many)))).ToList(), batchN, seqLen,
            new BenchOptions(Warmup: 2, Runs: Math.Max(5, runs / 10), MaxSeconds: 120));
        return variants.Select((v, i) => (v.Name, b1[i], bn[i])).ToDictionary(x => x.Name, x => (x.Item2, x.Item3));
    }

    /// <summary>The report row of a scored (and possibly timed) variant.</summary>
    public static ClassifierVariantReport Report(ClassifierVariant variant, ClassifierScore score, (BenchResult Batch1, BenchResult BatchN)? speed)
    {
        int c = score.Labels.Count;
        return new ClassifierVariantReport
        {
            Params = variant.Params, FileBytes = variant.FileBytes, Runtime = variant.Runtime, Folder = variant.Folder,
            Quality = score.Summary(),
            PerClassF1 = score.PerClassF1(),
            Confusion = Enumerable.Range(0, c).Select(a => Enumerable.Range(0, c).Select(p => score.Metrics.Confusion[a, p]).ToArray()).ToArray(),
            Reliability = score.Reliability.Select(b => new ReliabilityBinReport(b.Low, b.High, b.Count, b.Confidence, b.Accuracy)).ToList(),
            LatencyMs = speed is { } s ? new Dictionary<string, double> { ["p50"] = s.Batch1.P50Ms, ["p90"] = s.Batch1.P90Ms, ["p99"] = s.Batch1.P99Ms } : null,
            Throughput = speed is { } t ? new Dictionary<string, double> { ["sequences_per_s"] = t.BatchN.SequencesPerSecond, ["batch"] = t.BatchN.Batch } : null,
        };
    }
}

using DistillSharp.Benchmarks;
using DistillSharp.Evaluation;
using DistillSharp.Models;
using DistillSharp.Models.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Pipeline;

/// <summary>One model variant's measurements, as report.json holds them.</summary>
public sealed record VariantMeasurement(
    long? Params, long? FileBytes, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> Quality,
    BenchResult? Batch1, BenchResult? Batch32, string Runtime);

/// <summary>Measures quality (evaluation tasks) and speed (latency, throughput) of a variant.</summary>
public static class VariantMeasurer
{
    /// <summary>Runs the tasks; task names become report keys with '-' → '_' (wordnet_retrieval, spam_f1).</summary>
    public static Dictionary<string, IReadOnlyDictionary<string, double>> Quality(
        Func<IReadOnlyList<string>, float[][]> embed, IReadOnlyList<string> tasks, EvalData data,
        Func<IReadOnlyList<string>, float[][]>? teacherEmbed, TextWriter log)
    {
        var result = new Dictionary<string, IReadOnlyDictionary<string, double>>();
        var context = new EvalContext(embed, data, teacherEmbed, Log: log);
        foreach (string task in tasks)
        {
            if (task == "agreement" && teacherEmbed is null) continue;
            var r = EvalRegistry.Create(task).Run(context);
            result[task.Replace('-', '_')] = r.Metrics;
        }
        return result;
    }

    /// <summary>
    /// Wraps an embedding function so each distinct text is embedded once per run: the agreement
    /// task asks the teacher for the same 3,209 texts once per variant.
    /// </summary>
    public static Func<IReadOnlyList<string>, float[][]> Memoized(Func<IReadOnlyList<string>, float[][]> embed)
    {
        var cache = new Dictionary<string, float[]>(StringComparer.Ordinal);
        return texts =>
        {
            var missing = texts.Where(t => !cache.ContainsKey(t)).Distinct(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                var computed = embed(missing);
                for (int i = 0; i < missing.Count; i++) cache[missing[i]] = computed[i];
            }
            return texts.Select(t => cache[t]).ToArray();
        };
    }

    /// <summary>Batch-1 latency and batch-N throughput of a call that embeds a token batch.</summary>
    public static (BenchResult Batch1, BenchResult BatchN) Speed(string name, Action<TokenBatch> run, BertTextTokenizer tokenizer,
        int seqLen, int batchN, int runs)
    {
        var one = FullBatch(tokenizer, 1, seqLen);
        var many = FullBatch(tokenizer, batchN, seqLen);
        var b1 = LatencyBenchmark.Run(name, 1, seqLen, () => run(one), new BenchOptions(Warmup: 5, Runs: runs, MaxSeconds: 30));
        var bn = LatencyBenchmark.Run(name, batchN, seqLen, () => run(many), new BenchOptions(Warmup: 2, Runs: Math.Max(5, runs / 10), MaxSeconds: 30));
        return (b1, bn);
    }

    /// <summary>TorchSharp forward of an encoder, for <see cref="Speed"/>.</summary>
    public static Action<TokenBatch> TorchForward(SentenceEncoder encoder) => batch =>
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        encoder.Forward(batch);
    };

    /// <summary>A batch of <paramref name="batch"/> sequences of exactly <paramref name="seqLen"/> tokens (no padding).</summary>
    public static TokenBatch FullBatch(BertTextTokenizer tokenizer, int batch, int seqLen)
    {
        const string Text = "Knowledge distillation trains a small student network to reproduce the behaviour of a large teacher " +
            "network, matching its output distribution, its hidden states and its attention maps, so that the student keeps " +
            "most of the teacher's accuracy at a fraction of its size and latency on ordinary hardware, which is what we measure.";
        string text = string.Join(' ', Enumerable.Repeat(Text, 1 + seqLen / 40));
        var tokens = tokenizer.EncodeBatch(Enumerable.Repeat(text, batch).ToList());
        if (tokens.Length < seqLen) throw new InvalidOperationException($"benchmark text gives {tokens.Length} tokens, wanted {seqLen}");
        if (tokens.Length == seqLen) return tokens;
        var ids = new long[batch, seqLen];
        var mask = new long[batch, seqLen];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seqLen; t++) { ids[b, t] = tokens.InputIds[b, t]; mask[b, t] = 1; }
        return new TokenBatch(ids, mask, new long[batch, seqLen]);
    }
}

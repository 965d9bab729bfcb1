using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Benchmarks.Encoder;

/// <summary>Batch-1 latency and batch-N throughput of an encoder on fixed, unpadded token batches.</summary>
public static class EncoderSpeed
{
    /// <summary>Batch-1 latency and batch-N throughput of a call that embeds a token batch.</summary>
    public static (BenchResult Batch1, BenchResult BatchN) Measure(string name, Action<TokenBatch> run, BertTextTokenizer tokenizer,
        int seqLen, int batchN, int runs)
    {
        var one = FullBatch(tokenizer, 1, seqLen);
        var many = FullBatch(tokenizer, batchN, seqLen);
        var b1 = LatencyBenchmark.Run(name, 1, seqLen, () => run(one), new BenchOptions(Warmup: 5, Runs: runs, MaxSeconds: 30));
        var bn = LatencyBenchmark.Run(name, batchN, seqLen, () => run(many), new BenchOptions(Warmup: 2, Runs: Math.Max(5, runs / 10), MaxSeconds: 30));
        return (b1, bn);
    }

    /// <summary>TorchSharp forward of an encoder, for <see cref="Measure"/>.</summary>
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

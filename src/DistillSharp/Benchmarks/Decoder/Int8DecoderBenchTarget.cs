using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using DistillSharp.Quantization.Decoder;

namespace DistillSharp.Benchmarks.Decoder;

/// <summary>
/// An <see cref="Int8Decoder"/> timed like the TorchSharp target: prefill of the prompts (the first
/// new token is the argmax of its logits), then <c>newTokens</c> greedy single-token decode steps
/// through the session's KV cache. Sessions are kept per (batch, capacity), so repeated runs reuse
/// their cache buffers and the timed decode steps allocate nothing.
/// </summary>
public sealed class Int8DecoderBenchTarget(Int8Decoder decoder, bool ownsDecoder = true) : IDecoderBenchTarget
{
    readonly Dictionary<(int Batch, int Capacity), Int8DecoderSession> _sessions = [];

    /// <summary>Quantizes the Hugging Face decoder folder <paramref name="folder"/> (or a run folder's student) for <paramref name="threads"/> threads.</summary>
    public static Int8DecoderBenchTarget FromFolder(string folder, int threads, Int8DecoderOptions? options = null)
    {
        var (model, _) = DecoderFolder.Load(folder);
        using (model)
            return new Int8DecoderBenchTarget(DecoderToRuntime.Build(model, (options ?? new Int8DecoderOptions()) with { Threads = threads }));
    }

    /// <summary>The runtime being timed.</summary>
    public Int8Decoder Decoder => decoder;

    /// <inheritdoc/>
    public string Runtime => decoder.Options.Mode == Int8DecoderMode.Dynamic ? "distillsharp-int8" : "distillsharp-int8-weight-only";

    /// <inheritdoc/>
    public (double PrefillSeconds, double DecodeSeconds) Run(IReadOnlyList<int[]> prompts, int newTokens)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (newTokens < 0) throw new DistillSharpException($"newTokens must be >= 0, got {newTokens}");
        int batch = prompts.Count, capacity = prompts.Max(p => p.Length) + newTokens + 1, vocab = decoder.Config.VocabSize;
        if (!_sessions.TryGetValue((batch, capacity), out var session))
            _sessions[(batch, capacity)] = session = decoder.NewSession(batch, capacity);
        var next = new int[batch];
        double prefill = DecoderSpeedBench.Time(() => Pick(decoder.Prefill(session, prompts), next, vocab));
        double decode = DecoderSpeedBench.Time(() =>
        {
            for (int i = 0; i < newTokens; i++) Pick(decoder.Decode(session, next), next, vocab);
        });
        return (prefill, decode);
    }

    // next[b] ← argmax of row b.
    static void Pick(ReadOnlySpan<float> logits, int[] next, int vocab)
    {
        for (int b = 0; b < next.Length; b++)
        {
            var row = logits.Slice(b * vocab, vocab);
            int best = 0;
            for (int i = 1; i < vocab; i++) if (row[i] > row[best]) best = i;
            next[b] = best;
        }
    }

    /// <summary>Disposes the decoder when this target owns it.</summary>
    public void Dispose()
    {
        if (ownsDecoder) decoder.Dispose();
    }
}

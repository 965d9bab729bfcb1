using System.Diagnostics;

namespace DistillSharp.Benchmarks.Decoder;

/// <summary>Prefill/decode benchmark settings.</summary>
/// <param name="Batch">Batch sizes (default 1 and 8).</param>
/// <param name="PromptTokens">Prompt length for prefill.</param>
/// <param name="NewTokens">Decoded tokens per run.</param>
/// <param name="Runs">Timed runs per setting (after one warm-up).</param>
public sealed record LmBenchConfig(IReadOnlyList<int>? Batch = null, int PromptTokens = 64, int NewTokens = 32, int Runs = 3)
{
    /// <summary>Batch sizes.</summary>
    public IReadOnlyList<int> Batches => Batch ?? [1, 8];
}

/// <summary>
/// A decoder that can be timed: prefill a batch of prompts, then decode greedily token by token.
/// The torch model implements it; an INT8 decoder runtime plugs in the same way
/// (<see cref="DecoderBenchRuntimes"/>), so the benchmark needs no change when one appears.
/// </summary>
public interface IDecoderBenchTarget : IDisposable
{
    /// <summary>Runtime name for the report, e.g. "torchsharp-fp32", "distillsharp-int8".</summary>
    string Runtime { get; }

    /// <summary>
    /// Runs prefill of <paramref name="prompts"/> (equal lengths, B × T) and then
    /// <paramref name="newTokens"/> greedy decode steps with a KV cache; returns the seconds of each part.
    /// </summary>
    (double PrefillSeconds, double DecodeSeconds) Run(IReadOnlyList<int[]> prompts, int newTokens);
}

/// <summary>Prefill and decode speed of one model at one batch size.</summary>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="PrefillTokensPerSecond">Prompt tokens processed per second (B·T / median prefill time).</param>
/// <param name="DecodeTokensPerSecond">Generated tokens per second over the batch (B·new / median decode time).</param>
/// <param name="PrefillMsMedian">Median prefill time, ms.</param>
/// <param name="DecodeMsPerTokenMedian">Median decode time per step, ms.</param>
public sealed record DecoderSpeed(int Batch, double PrefillTokensPerSecond, double DecodeTokensPerSecond, double PrefillMsMedian, double DecodeMsPerTokenMedian);

/// <summary>Times <see cref="IDecoderBenchTarget"/>s the same way: one warm-up run, then the median of N runs.</summary>
public static class DecoderSpeedBench
{
    /// <summary>
    /// Measures <paramref name="target"/> at each batch size of <paramref name="config"/>; prompts are
    /// consecutive windows of <paramref name="tokens"/> (real text, so decoding is not a degenerate repeat).
    /// </summary>
    public static IReadOnlyList<DecoderSpeed> Measure(IDecoderBenchTarget target, LmBenchConfig config, IReadOnlyList<int> tokens)
    {
        if (tokens.Count < config.PromptTokens)
            throw new DistillSharpException($"the benchmark needs at least bench.prompt_tokens = {config.PromptTokens} tokens of text, got {tokens.Count}");
        var results = new List<DecoderSpeed>();
        foreach (int batch in config.Batches)
        {
            var prompts = Enumerable.Range(0, batch).Select(b =>
            {
                int start = (int)((long)b * config.PromptTokens % Math.Max(1, tokens.Count - config.PromptTokens + 1));
                return tokens.Skip(start).Take(config.PromptTokens).ToArray();
            }).ToList();
            target.Run(prompts, Math.Min(2, config.NewTokens)); // warm-up: allocations, thread pools
            var prefill = new List<double>();
            var decode = new List<double>();
            for (int r = 0; r < config.Runs; r++)
            {
                var (p, d) = target.Run(prompts, config.NewTokens);
                prefill.Add(p);
                decode.Add(d);
            }
            double pm = Median(prefill), dm = Median(decode);
            results.Add(new DecoderSpeed(batch, batch * config.PromptTokens / pm, batch * config.NewTokens / dm,
                pm * 1000, dm * 1000 / config.NewTokens));
        }
        return results;
    }

    /// <summary>Times an action, in seconds.</summary>
    public static double Time(Action action)
    {
        var clock = Stopwatch.StartNew();
        action();
        return clock.Elapsed.TotalSeconds;
    }

    static double Median(List<double> xs)
    {
        var s = xs.Order().ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }
}

/// <summary>
/// Optional decoder runtimes benchmarked on the student's HF folder besides TorchSharp, by
/// report variant name (e.g. "student_int8" → an INT8 decoder runtime). A runtime registers one
/// row; the pipeline measures every registered row and notes when none is available.
/// </summary>
public static class DecoderBenchRuntimes
{
    /// <summary>Variant name → factory (student HF folder, threads) → bench target.</summary>
    public static readonly Dictionary<string, Func<string, int, IDecoderBenchTarget>> Student = new(StringComparer.Ordinal)
    {
        ["student_int8"] = (folder, threads) => Int8DecoderBenchTarget.FromFolder(folder, threads),
    };
}

using System.Diagnostics;

namespace DistillSharp.Benchmarks;

/// <summary>How a latency benchmark runs.</summary>
/// <param name="Warmup">Untimed runs first (JIT, allocator, caches).</param>
/// <param name="Runs">Timed runs.</param>
/// <param name="MaxSeconds">Stop timing early once this much time has been spent (0 = no limit).</param>
public sealed record BenchOptions(int Warmup = 5, int Runs = 50, double MaxSeconds = 0);

/// <summary>
/// The result of timing one model on one input shape. Raw samples are kept so that reports can
/// show the distribution, not only its summary.
/// </summary>
public sealed record BenchResult(
    string Name, int Batch, int SeqLen, double[] SamplesMs,
    double P50Ms, double P90Ms, double P99Ms, double MeanMs,
    double SequencesPerSecond, double TokensPerSecond, long PeakRssBytes)
{
    /// <summary>Summarises raw samples; tokens per call = batch × sequence length.</summary>
    public static BenchResult FromSamples(string name, int batch, int seqLen, double[] samplesMs)
    {
        if (samplesMs.Length == 0) throw new ArgumentException("no samples", nameof(samplesMs));
        var sorted = samplesMs.OrderBy(x => x).ToArray();
        double p50 = Percentile(sorted, 50);
        double mean = samplesMs.Average();
        return new BenchResult(name, batch, seqLen, samplesMs, p50, Percentile(sorted, 90), Percentile(sorted, 99), mean,
            batch * 1000.0 / p50, (double)batch * seqLen * 1000.0 / p50, Environment.WorkingSet > 0 ? PeakRss() : 0);
    }

    /// <summary>Linear-interpolated percentile of sorted samples (numpy's default method).</summary>
    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 1) return sorted[0];
        double rank = p / 100.0 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /// <summary>Peak resident set size of this process (VmHWM on Linux), or the current working set elsewhere.</summary>
    public static long PeakRss()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            string? line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:"));
            if (line != null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out long kb)) return kb * 1024;
        }
        return Environment.WorkingSet;
    }
}

/// <summary>Times a call repeatedly after a warm-up.</summary>
public static class LatencyBenchmark
{
    /// <summary>Runs <paramref name="call"/> <see cref="BenchOptions.Warmup"/> times untimed, then times up to <see cref="BenchOptions.Runs"/> calls.</summary>
    public static BenchResult Run(string name, int batch, int seqLen, Action call, BenchOptions options)
    {
        for (int i = 0; i < options.Warmup; i++) call();
        var samples = new List<double>(options.Runs);
        var total = Stopwatch.StartNew();
        for (int i = 0; i < options.Runs; i++)
        {
            long start = Stopwatch.GetTimestamp();
            call();
            samples.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            if (options.MaxSeconds > 0 && total.Elapsed.TotalSeconds > options.MaxSeconds && samples.Count >= 5) break;
        }
        return BenchResult.FromSamples(name, batch, seqLen, samples.ToArray());
    }

    /// <summary>
    /// Times two calls alternately (a, b, a, b, …) after both warm up, so that a change of machine
    /// load during the measurement affects both alike: their ratio is then a fair comparison.
    /// </summary>
    public static (BenchResult A, BenchResult B) RunInterleaved(string nameA, Action a, string nameB, Action b,
        int batch, int seqLen, BenchOptions options)
    {
        var results = RunInterleaved([(nameA, a), (nameB, b)], batch, seqLen, options);
        return (results[0], results[1]);
    }

    /// <summary>
    /// Times several calls in turn (1, 2, …, n, 1, 2, …) after all warm up, for the same reason:
    /// latency ratios between them are fair on a machine whose load changes. <see cref="BenchOptions.MaxSeconds"/>
    /// caps the whole round-robin (every call keeps the same number of samples, at least 5).
    /// </summary>
    public static IReadOnlyList<BenchResult> RunInterleaved(IReadOnlyList<(string Name, Action Call)> calls, int batch, int seqLen, BenchOptions options)
    {
        for (int i = 0; i < options.Warmup; i++) foreach (var (_, call) in calls) call();
        var samples = calls.Select(_ => new List<double>(options.Runs)).ToArray();
        var total = Stopwatch.StartNew();
        for (int i = 0; i < options.Runs; i++)
        {
            for (int c = 0; c < calls.Count; c++)
            {
                long start = Stopwatch.GetTimestamp();
                calls[c].Call();
                samples[c].Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            if (options.MaxSeconds > 0 && total.Elapsed.TotalSeconds > options.MaxSeconds && i + 1 >= 5) break;
        }
        return calls.Select((c, k) => BenchResult.FromSamples(c.Name, batch, seqLen, samples[k].ToArray())).ToList();
    }
}

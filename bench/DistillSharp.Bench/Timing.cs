using System.Diagnostics;
using System.Runtime.InteropServices;

namespace DistillSharp.Bench;

/// <summary>
/// Stopwatch timing of several variants interleaved round by round (so that load from other
/// processes hits all of them alike), after warm-up; reports the median and the minimum.
/// </summary>
static partial class Timing
{
    /// <summary>CPU seconds consumed by the calling thread (Linux CLOCK_THREAD_CPUTIME_ID): immune to
    /// time the thread spends descheduled, so single-thread runs stay comparable on a loaded machine.</summary>
    public static double ThreadCpuSeconds()
    {
        clock_gettime(3, out var ts);
        return ts.Seconds + ts.Nanoseconds * 1e-9;
    }

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int clock_gettime(int clock, out TimeSpec time);

    public readonly record struct Stat(double MedianSeconds, double MinSeconds);

    public static Dictionary<string, Stat> Interleaved(IReadOnlyList<(string Name, Action Run)> variants,
        double budgetSeconds = 1.5, int warmup = 5, int minRounds = 9, int maxRounds = 300, bool threadCpuTime = false) =>
        Samples(variants, budgetSeconds, warmup, minRounds, maxRounds, threadCpuTime).ToDictionary(p => p.Key, p =>
        {
            p.Value.Sort();
            return new Stat(p.Value[p.Value.Count / 2], p.Value[0]);
        });

    /// <summary>The raw samples (seconds, in call order) of every variant, rounds interleaved as in <see cref="Interleaved"/>.</summary>
    public static Dictionary<string, List<double>> Samples(IReadOnlyList<(string Name, Action Run)> variants,
        double budgetSeconds = 1.5, int warmup = 5, int minRounds = 9, int maxRounds = 300, bool threadCpuTime = false)
    {
        foreach (var (_, run) in variants)
            for (int i = 0; i < warmup; i++) run();
        var samples = variants.ToDictionary(v => v.Name, _ => new List<double>());
        var total = Stopwatch.StartNew();
        for (int round = 0; round < maxRounds && (round < minRounds || total.Elapsed.TotalSeconds < budgetSeconds); round++)
            foreach (var (name, run) in variants)
            {
                if (threadCpuTime)
                {
                    double c0 = ThreadCpuSeconds();
                    run();
                    samples[name].Add(ThreadCpuSeconds() - c0);
                    continue;
                }
                long t0 = Stopwatch.GetTimestamp();
                run();
                samples[name].Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
            }
        return samples;
    }

    /// <summary>Linear-interpolated percentile (0–100) of unsorted samples, as numpy's default.</summary>
    public static double Percentile(IReadOnlyList<double> samples, double p)
    {
        var s = samples.Order().ToArray();
        double pos = p / 100 * (s.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, s.Length - 1);
        return s[lo] + (s[hi] - s[lo]) * (pos - lo);
    }
}

using System.Diagnostics;

namespace DistillSharp.Bench;

/// <summary>Stopwatch timing: warm-up runs, then the median of repeated runs.</summary>
static class Timing
{
    /// <summary>Median seconds per call of <paramref name="action"/> after warming up; repeats until ~budget seconds.</summary>
    public static double Median(Action action, double budgetSeconds = 0.4, int warmup = 5, int minRuns = 7, int maxRuns = 200)
    {
        for (int i = 0; i < warmup; i++) action();
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < minRuns || (samples.Count < maxRuns && total.Elapsed.TotalSeconds < budgetSeconds))
        {
            long t0 = Stopwatch.GetTimestamp();
            action();
            samples.Add(Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        samples.Sort();
        return samples[samples.Count / 2];
    }
}

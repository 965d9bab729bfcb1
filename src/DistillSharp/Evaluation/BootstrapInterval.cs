using DistillSharp.Runtime;

namespace DistillSharp.Evaluation;

/// <summary>
/// Percentile-bootstrap confidence intervals for a classification metric: the test examples are
/// resampled with replacement (a fixed seed, so reports are reproducible) and the metric recomputed
/// on each resample; the interval is the (α/2, 1 − α/2) quantile pair. It says how much of a
/// difference between two models one test split can resolve.
/// </summary>
public static class BootstrapInterval
{
    /// <summary>The 95% (by default) interval of <paramref name="metric"/> over resamples of the (predicted, actual) pairs.</summary>
    public static (double Low, double High) Of(IReadOnlyList<bool> predicted, IReadOnlyList<bool> actual,
        Func<ClassificationMetrics, double> metric, int resamples = 2000, double confidence = 0.95, ulong seed = 20261128)
    {
        if (predicted.Count != actual.Count) throw new ArgumentException($"{predicted.Count} predictions for {actual.Count} labels");
        if (predicted.Count == 0) throw new ArgumentException("no examples to resample");
        if (resamples < 10) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "at least 10 resamples");
        if (confidence is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "between 0 and 1");
        var rng = new SplitMix64(seed);
        int n = predicted.Count;
        var values = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            int tp = 0, fp = 0, tn = 0, fn = 0;
            for (int i = 0; i < n; i++)
            {
                int k = rng.NextInt(n);
                switch ((predicted[k], actual[k]))
                {
                    case (true, true): tp++; break;
                    case (true, false): fp++; break;
                    case (false, false): tn++; break;
                    default: fn++; break;
                }
            }
            values[r] = metric(new ClassificationMetrics(tp, fp, tn, fn));
        }
        Array.Sort(values);
        double alpha = 1 - confidence;
        return (Quantile(values, alpha / 2), Quantile(values, 1 - alpha / 2));
    }

    /// <summary>Linear-interpolated quantile of sorted values.</summary>
    static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

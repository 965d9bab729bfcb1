using DistillSharp.Runtime;

namespace DistillSharp.Evaluation;

/// <summary>
/// Percentile-bootstrap confidence intervals (Efron &amp; Tibshirani 1993, ch. 13): the test examples
/// are resampled with replacement (a fixed seed, so reports are reproducible) and the metric
/// recomputed on each resample; the interval is the (α/2, 1 − α/2) quantile pair. It says how much
/// of a difference between two models one test split can resolve. The paired form resamples the
/// same examples for both models and takes the quantiles of the metric's difference, which removes
/// the variance the two models share (Koehn 2004, "Statistical significance tests for machine
/// translation evaluation", paired bootstrap resampling).
/// </summary>
public static class BootstrapInterval
{
    /// <summary>The seed every report uses.</summary>
    public const ulong DefaultSeed = 20261128;

    /// <summary>The 95% (by default) interval of <paramref name="metric"/> over resamples of the (predicted, actual) pairs.</summary>
    public static (double Low, double High) Of(IReadOnlyList<bool> predicted, IReadOnlyList<bool> actual,
        Func<ClassificationMetrics, double> metric, int resamples = 2000, double confidence = 0.95, ulong seed = DefaultSeed)
    {
        if (predicted.Count != actual.Count) throw new ArgumentException($"{predicted.Count} predictions for {actual.Count} labels");
        return Resample(predicted.Count, sample =>
        {
            int tp = 0, fp = 0, tn = 0, fn = 0;
            foreach (int k in sample)
            {
                switch ((predicted[k], actual[k]))
                {
                    case (true, true): tp++; break;
                    case (true, false): fp++; break;
                    case (false, false): tn++; break;
                    default: fn++; break;
                }
            }
            return metric(new ClassificationMetrics(tp, fp, tn, fn));
        }, resamples, confidence, seed);
    }

    /// <summary>
    /// The interval of <paramref name="metric"/>(a resample) − <paramref name="baseline"/>(the same resample):
    /// both are computed on the same drawn examples.
    /// </summary>
    public static (double Low, double High) Paired(int n, Func<int[], double> metric, Func<int[], double> baseline,
        int resamples = 2000, double confidence = 0.95, ulong seed = DefaultSeed) =>
        Resample(n, sample => metric(sample) - baseline(sample), resamples, confidence, seed);

    /// <summary>
    /// The interval of <paramref name="metric"/> over <paramref name="resamples"/> draws of <paramref name="n"/>
    /// example indices with replacement; the metric gets each draw's indices.
    /// </summary>
    public static (double Low, double High) Resample(int n, Func<int[], double> metric, int resamples = 2000, double confidence = 0.95,
        ulong seed = DefaultSeed)
    {
        if (n == 0) throw new ArgumentException("no examples to resample");
        if (resamples < 10) throw new ArgumentOutOfRangeException(nameof(resamples), resamples, "at least 10 resamples");
        if (confidence is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "between 0 and 1");
        var rng = new SplitMix64(seed);
        var values = new double[resamples];
        var sample = new int[n];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < n; i++) sample[i] = rng.NextInt(n);
            values[r] = metric(sample);
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

namespace DistillSharp.Reports.Plots;

/// <summary>The arithmetic behind the plots' choices: when to use a log axis, how to smooth a noisy curve.</summary>
public static class SeriesMath
{
    /// <summary>A ratio max/min at or above which a positive series is drawn on a log axis.</summary>
    public const double LogRangeRatio = 50;

    /// <summary>True when every value is positive and max/min is at least <paramref name="ratio"/>.</summary>
    public static bool IsWide(IEnumerable<double> values, double ratio = LogRangeRatio)
    {
        var all = values.Where(double.IsFinite).ToList();
        if (all.Count == 0 || all.Any(v => v <= 0)) return false;
        return all.Max() / all.Min() >= ratio;
    }

    /// <summary>
    /// Bias-corrected exponential moving average of <paramref name="ys"/> (as Adam corrects its
    /// moments: m / (1 − (1 − α)^k)), restarted at the first point of every stage; so the curve
    /// starts at the mean of the first few points, not at the first noisy one.
    /// </summary>
    public static double[] Ema(double[] xs, double[] ys, IReadOnlyList<StageSpan> stages, double alpha)
    {
        if (!(alpha > 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be in (0, 1]");
        if (xs.Length != ys.Length) throw new ArgumentException($"xs has {xs.Length} values but ys has {ys.Length}", nameof(ys));
        var starts = stages.Select(s => (double)s.StartStep).ToArray();
        var smoothed = new double[ys.Length];
        int stage = int.MinValue, k = 0;
        double m = 0;
        for (int i = 0; i < ys.Length; i++)
        {
            int current = Array.FindLastIndex(starts, start => xs[i] > start);
            if (current != stage) (stage, k, m) = (current, 0, 0);
            k++;
            m = (1 - alpha) * m + alpha * ys[i];
            smoothed[i] = m / (1 - Math.Pow(1 - alpha, k));
        }
        return smoothed;
    }
}

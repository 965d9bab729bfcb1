using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Clips at a percentile of the observed values, read from histograms so memory stays constant for
/// millions of values. Symmetric specs clip at the p-th percentile of |x|; asymmetric specs at the
/// (100 − p)-th and p-th percentiles of x. The default p = 99.99 drops about 1 value in 10⁴ —
/// robust to rare outliers at the cost of saturating them.
/// </summary>
public sealed class PercentileObserver : HistogramObserver
{

    /// <summary>Creates an observer keeping <paramref name="percentile"/> (in (0, 100]).</summary>
    public PercentileObserver(double percentile = 99.99, int bins = 2048) : base(bins)
    {
        if (!(percentile > 0 && percentile <= 100))
            throw new DistillSharpException($"percentile must be in (0, 100], got {percentile}");
        Percentile = percentile;
    }

    /// <inheritdoc/>
    public override string Name => "percentile";

    /// <summary>The kept percentile.</summary>
    public double Percentile { get; }

    /// <inheritdoc/>
    protected override double SymmetricThreshold(QuantSpec spec) => Math.Min(Abs.Quantile(Percentile / 100), Abs.Max);

    /// <inheritdoc/>
    protected override (double Low, double High) AsymmetricRange(QuantSpec spec)
    {
        var p = Percentile / 100;
        return (Math.Max(Signed.Quantile(1 - p), Signed.Min), Math.Min(Signed.Quantile(p), Signed.Max));
    }
}

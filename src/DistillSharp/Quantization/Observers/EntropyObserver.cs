using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// TensorRT-style entropy calibration (Migacz, "8-bit Inference with TensorRT", GTC 2017): build a
/// 2048-bin histogram, and for every candidate threshold i (in bins, from the number of levels up
/// to 2048) compare the reference distribution P = bins [0, i) with the clipped tail folded into
/// the last bin, against Q = the same bins merged into `levels` quantization levels and expanded
/// back (mass spread over the non-empty bins of each level). The threshold minimising KL(P‖Q)
/// wins. Symmetric specs use the |x| histogram with qmax + 1 levels (128 for int8, 8 for int4);
/// asymmetric specs shrink a window over the signed histogram from both ends around zero, with
/// qmax − qmin + 1 levels (256 for uint8).
/// </summary>
/// <remarks>A candidate spans at least `levels` bins, so the threshold can never fall below
/// levels / bins of the observed range (1/16 of max|x| for int8 with 2048 bins): with one extreme
/// outlier the histogram is too coarse to reach the bulk. More bins lower that floor.</remarks>
public sealed class EntropyObserver : HistogramObserver
{
    private const double SmoothingEps = 1e-4;
    private const int AsymmetricSteps = 512;

    /// <summary>Creates an observer with <paramref name="bins"/> histogram bins (TensorRT uses 2048).</summary>
    public EntropyObserver(int bins = 2048) : base(bins) { }

    /// <inheritdoc/>
    public override string Name => "entropy";

    /// <inheritdoc/>
    protected override double SymmetricThreshold(QuantSpec spec) => Math.Min(BestSymmetricThreshold(Abs, spec.QMax + 1), Abs.Max);

    /// <inheritdoc/>
    protected override (double Low, double High) AsymmetricRange(QuantSpec spec) => BestAsymmetricRange(Signed, spec.QMax - spec.QMin + 1);

    internal static double BestSymmetricThreshold(ValueHistogram h, int levels)
    {
        var counts = h.Counts.ToArray();
        if (h.Bins <= levels) return h.Max;
        double bestKl = double.PositiveInfinity, bestT = h.Max;
        var tail = new double[h.Bins + 1];
        for (var i = h.Bins - 1; i >= 0; i--) tail[i] = tail[i + 1] + counts[i];
        for (var i = levels; i <= h.Bins; i++)
        {
            var kl = Divergence(counts, 0, i, levels, 0, tail[i]);
            if (kl < bestKl) (bestKl, bestT) = (kl, h.Edge(i));
        }
        return bestT;
    }

    internal static (double Low, double High) BestAsymmetricRange(ValueHistogram h, int levels)
    {
        var counts = h.Counts.ToArray();
        if (h.Bins <= levels) return (h.Min, h.Max);
        var zero = (int)Math.Clamp(Math.Round(-h.Low / h.BinWidth), 0, h.Bins);
        var prefix = new double[h.Bins + 1];
        for (var i = 0; i < h.Bins; i++) prefix[i + 1] = prefix[i] + counts[i];
        double bestKl = double.PositiveInfinity;
        (double, double) best = (h.Min, h.Max);
        for (var s = 1; s <= AsymmetricSteps; s++)
        {
            var fraction = (double)s / AsymmetricSteps;
            var start = zero - (int)Math.Round(zero * fraction);
            var end = zero + (int)Math.Round((h.Bins - zero) * fraction);
            if (end - start < levels) continue;
            var kl = Divergence(counts, start, end, levels, prefix[start], prefix[h.Bins] - prefix[end]);
            if (kl < bestKl) (bestKl, best) = (kl, (Math.Max(h.Edge(start), h.Min), Math.Min(h.Edge(end), h.Max)));
        }
        return best;
    }

    /// <summary>KL(P‖Q) for the window [start, end) with outlier mass folded into its end bins.</summary>
    private static double Divergence(double[] counts, int start, int end, int levels, double below, double above)
    {
        var width = end - start;
        var p = new double[width];
        var q = new double[width];
        Array.Copy(counts, start, p, 0, width);
        p[0] += below;
        p[width - 1] += above;
        var perLevel = width / levels;
        for (var j = 0; j < levels; j++)
        {
            var from = j * perLevel;
            var to = j == levels - 1 ? width : from + perLevel;
            double mass = 0;
            var nonEmpty = 0;
            for (var k = from; k < to; k++)
            {
                mass += counts[start + k];
                if (counts[start + k] > 0) nonEmpty++;
            }
            if (nonEmpty == 0) continue;
            for (var k = from; k < to; k++)
                if (counts[start + k] > 0) q[k] = mass / nonEmpty;
        }
        if (!Smooth(p) || !Smooth(q)) return double.PositiveInfinity;
        var kl = 0.0;
        for (var k = 0; k < width; k++)
            if (p[k] > 0) kl += p[k] * Math.Log(p[k] / q[k]);
        return kl;
    }

    /// <summary>Normalises to sum 1 and moves ε mass onto empty bins so log(P/Q) stays finite.</summary>
    private static bool Smooth(double[] d)
    {
        double sum = 0;
        var zeros = 0;
        foreach (var v in d) { sum += v; if (v == 0) zeros++; }
        if (sum <= 0 || zeros == d.Length) return false;
        var take = SmoothingEps * zeros / (d.Length - zeros);
        for (var k = 0; k < d.Length; k++)
            d[k] = d[k] == 0 ? SmoothingEps : Math.Max(d[k] / sum - take, SmoothingEps * 1e-3);
        return true;
    }
}

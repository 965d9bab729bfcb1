using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Chooses the clipping range that minimises the expected squared quantization error over the
/// observed histogram: clipped values cost (|x| − T)², values inside cost Δ²/12 (uniform rounding
/// error, Δ = step size). Symmetric specs search T over every bin edge of the |x| histogram;
/// asymmetric specs search (low, high) on a ≤129 × 129 grid of edges of the signed histogram.
/// Prefix sums of n, n·c and n·c² make every candidate O(1).
/// </summary>
/// <remarks>MSE weighs each value's error, so a single huge outlier among few values can still
/// be worth keeping in range; percentile or entropy ignore it more readily.</remarks>
public sealed class MseObserver : HistogramObserver
{

    /// <summary>Creates an observer with <paramref name="bins"/> histogram bins.</summary>
    public MseObserver(int bins = 2048) : base(bins) { }

    /// <inheritdoc/>
    public override string Name => "mse";

    /// <inheritdoc/>
    protected override double SymmetricThreshold(QuantSpec spec) => BestSymmetricThreshold(Abs, spec.QMax);

    /// <inheritdoc/>
    protected override (double Low, double High) AsymmetricRange(QuantSpec spec) => BestAsymmetricRange(Signed, spec.QMax - spec.QMin);

    /// <summary>Threshold T minimising Σ_clipped n(c − T)² + N_inside (T / qmax)² / 12.</summary>
    internal static double BestSymmetricThreshold(ValueHistogram h, int qmax)
    {
        var s = Sums.Of(h);
        double bestT = h.Max, bestCost = double.PositiveInfinity;
        for (var k = 1; k <= h.Bins; k++)
        {
            var t = h.Edge(k);
            var step = t / qmax;
            var (n, nc, ncc) = s.Range(k, h.Bins);
            var cost = ncc - 2 * t * nc + t * t * n + s.Range(0, k).N * step * step / 12;
            if (cost < bestCost) (bestCost, bestT) = (cost, t);
        }
        return Math.Min(bestT, h.Max);
    }

    /// <summary>Range (low, high) minimising clipping error on both sides plus N_inside Δ² / 12.</summary>
    internal static (double Low, double High) BestAsymmetricRange(ValueHistogram h, int levels)
    {
        var s = Sums.Of(h);
        var stride = Math.Max(1, h.Bins / 128);
        (double, double) best = (h.Min, h.Max);
        var bestCost = double.PositiveInfinity;
        for (var a = 0; a < h.Bins; a += stride)
        {
            for (var b = h.Bins; b > a; b -= stride)
            {
                double lo = Math.Max(h.Edge(a), h.Min), hi = Math.Min(h.Edge(b), h.Max);
                var step = (Math.Max(hi, 0) - Math.Min(lo, 0)) / levels;
                var (bn, bc, bcc) = s.Range(0, a);
                var (an, ac, acc) = s.Range(b, h.Bins);
                var cost = bcc - 2 * lo * bc + lo * lo * bn + acc - 2 * hi * ac + hi * hi * an
                         + s.Range(a, b).N * step * step / 12;
                if (cost < bestCost) (bestCost, best) = (cost, (lo, hi));
            }
        }
        return best;
    }

    /// <summary>Prefix sums of count, count·centre and count·centre² over the bins.</summary>
    private sealed class Sums
    {
        private readonly double[] _n, _nc, _ncc;

        private Sums(int bins) => (_n, _nc, _ncc) = (new double[bins + 1], new double[bins + 1], new double[bins + 1]);

        public static Sums Of(ValueHistogram h)
        {
            var s = new Sums(h.Bins);
            for (var i = 0; i < h.Bins; i++)
            {
                double n = h.Counts[i], c = h.Centre(i);
                s._n[i + 1] = s._n[i] + n;
                s._nc[i + 1] = s._nc[i] + n * c;
                s._ncc[i + 1] = s._ncc[i] + n * c * c;
            }
            return s;
        }

        /// <summary>Sums over bins [from, to).</summary>
        public (double N, double NC, double NCC) Range(int from, int to) =>
            (_n[to] - _n[from], _nc[to] - _nc[from], _ncc[to] - _ncc[from]);
    }
}

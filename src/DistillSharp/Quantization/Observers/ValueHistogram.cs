using System.Diagnostics;
using static TorchSharp.torch;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// A fixed number of equal-width bins over a range that grows as data arrives, built with
/// torch.histc so it scales to millions of values per batch. When a batch falls outside the current
/// range, old counts move to the new bin holding their old bin's centre (an approximation of at
/// most one new bin width).
/// </summary>
public sealed class ValueHistogram
{
    private double[] _counts;

    private readonly bool _fromZero;

    /// <summary>Creates an empty histogram with <paramref name="bins"/> bins; <paramref name="fromZero"/>
    /// pins the lower edge at 0 (for histograms of |x|).</summary>
    public ValueHistogram(int bins, bool fromZero = false)
    {
        _fromZero = fromZero;
        if (bins < 8) throw new ArgumentException($"a histogram needs at least 8 bins, got {bins}");
        _counts = new double[bins];
    }

    /// <summary>Lower edge of bin 0.</summary>
    public float Low { get; private set; }

    /// <summary>Upper edge of the last bin.</summary>
    public float High { get; private set; }

    /// <summary>Smallest value seen.</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>Largest value seen.</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>Values counted.</summary>
    public double Total { get; private set; }

    /// <summary>Bin counts (read-only view).</summary>
    public ReadOnlySpan<double> Counts => _counts;

    /// <summary>Number of bins.</summary>
    public int Bins => _counts.Length;

    /// <summary>Width of one bin.</summary>
    public double BinWidth => (High - (double)Low) / Bins;

    /// <summary>Adds a flat float32 tensor of values (NaN or Inf are rejected).</summary>
    public void Add(Tensor values)
    {
        using var scope = NewDisposeScope();
        if (values.numel() == 0) return;
        float min = values.min().item<float>(), max = values.max().item<float>();
        if (!float.IsFinite(min) || !float.IsFinite(max))
            throw new DistillSharpException($"observed tensor contains non-finite values (min {min}, max {max})");
        Min = Math.Min(Min, min);
        Max = Math.Max(Max, max);
        if (_fromZero)
        {
            if (min < 0) throw new ArgumentException($"a from-zero histogram takes values ≥ 0, got {min}");
            min = 0;
        }
        if (Total == 0)
        {
            Low = min;
            High = max > min ? max : min + Math.Max(Math.Abs(min) * 1e-6f, 1e-12f);
        }
        else if (min < Low || max > High)
        {
            Regrow(Math.Min(Low, min), Math.Max(High, max));
        }
        // torch.histc takes integer bounds in TorchSharp 0.107, so bin indices are computed here.
        var index = (values - Low).mul_((float)(Bins / (High - (double)Low))).floor_().clamp_(0, Bins - 1);
        var hist = index.to(ScalarType.Int64).bincount(null, Bins).to(ScalarType.Float64).data<double>();
        for (var i = 0; i < Bins; i++) _counts[i] += hist[i];
        Total += values.numel();
    }

    /// <summary>Value below which a fraction <paramref name="q"/> of the mass lies (linear within a bin).</summary>
    public float Quantile(double q)
    {
        Debug.Assert(Total > 0);
        var target = Math.Clamp(q, 0, 1) * Total;
        var cumulative = 0.0;
        for (var i = 0; i < Bins; i++)
        {
            var next = cumulative + _counts[i];
            if (next >= target && _counts[i] > 0)
            {
                var fraction = (target - cumulative) / _counts[i];
                return (float)(Low + (i + fraction) * BinWidth);
            }
            cumulative = next;
        }
        return High;
    }

    /// <summary>Centre of bin <paramref name="i"/>.</summary>
    public double Centre(int i) => Low + (i + 0.5) * BinWidth;

    /// <summary>Lower edge of bin <paramref name="i"/> (i = Bins gives the top edge).</summary>
    public double Edge(int i) => Low + i * BinWidth;

    private void Regrow(float low, float high)
    {
        var old = _counts;
        double oldLow = Low, oldWidth = BinWidth;
        Low = low;
        High = high;
        _counts = new double[old.Length];
        var width = BinWidth;
        for (var i = 0; i < old.Length; i++)
        {
            if (old[i] == 0) continue;
            var centre = oldLow + (i + 0.5) * oldWidth;
            var j = (int)Math.Clamp(Math.Floor((centre - Low) / width), 0, Bins - 1);
            _counts[j] += old[i];
        }
    }
}

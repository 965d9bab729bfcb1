using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Base of the per-tensor observers that choose their range from histograms (percentile, MSE,
/// entropy): it accumulates a histogram of |x| (for symmetric ranges) and one of x (for asymmetric
/// ones); a subclass picks the threshold or the range from them.
/// </summary>
public abstract class HistogramObserver : IObserver
{
    /// <summary>Creates the two histograms with <paramref name="bins"/> bins each.</summary>
    protected HistogramObserver(int bins)
    {
        Abs = new ValueHistogram(bins, fromZero: true);
        Signed = new ValueHistogram(bins);
    }

    /// <summary>Histogram of |x|.</summary>
    protected ValueHistogram Abs { get; }

    /// <summary>Histogram of x.</summary>
    protected ValueHistogram Signed { get; }

    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public long Count => (long)Abs.Total;

    /// <inheritdoc/>
    public void Observe(Tensor x)
    {
        using var scope = NewDisposeScope();
        var flat = ObserverChecks.Flat(x);
        Signed.Add(flat);
        Abs.Add(flat.abs());
    }

    /// <inheritdoc/>
    public QuantParams ComputeQParams(QuantSpec spec)
    {
        ObserverChecks.RequireObserved(this);
        ObserverChecks.RequirePerTensor(this, spec);
        if (spec.Symmetric)
        {
            var t = (float)SymmetricThreshold(spec);
            return QuantReference.ChooseQParams(-t, t, spec);
        }
        var (low, high) = AsymmetricRange(spec);
        return QuantReference.ChooseQParams((float)low, (float)high, spec);
    }

    /// <summary>The clipping threshold T of a symmetric range [−T, T].</summary>
    protected abstract double SymmetricThreshold(QuantSpec spec);

    /// <summary>The clipping range [low, high] of an asymmetric spec.</summary>
    protected abstract (double Low, double High) AsymmetricRange(QuantSpec spec);
}

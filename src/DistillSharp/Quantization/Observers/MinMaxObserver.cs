using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Running minimum and maximum over all calibration batches, per tensor or per channel. Exact and
/// cheap, but a single outlier sets the range: use it for weights (per channel), where every value
/// matters, and prefer percentile/MSE/entropy for activations with heavy tails.
/// </summary>
public sealed class MinMaxObserver : IObserver
{
    private float[]? _mins;
    private float[]? _maxs;

    /// <summary>Creates an observer; <paramref name="axis"/> ≥ 0 keeps one range per slice along it.</summary>
    public MinMaxObserver(int axis = -1) => Axis = axis;

    /// <inheritdoc/>
    public string Name => "minmax";

    /// <summary>Channel axis, or -1 for per-tensor.</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public long Count { get; private set; }

    /// <summary>Per-channel (or single) minimum so far.</summary>
    public IReadOnlyList<float> Mins => _mins ?? [];

    /// <summary>Per-channel (or single) maximum so far.</summary>
    public IReadOnlyList<float> Maxs => _maxs ?? [];

    /// <inheritdoc/>
    public void Observe(Tensor x)
    {
        if (x.numel() == 0) return;
        var (mins, maxs) = TensorQuant.MinMax(x, Axis);
        if (_mins is null || _maxs is null)
        {
            (_mins, _maxs) = (mins, maxs);
        }
        else
        {
            if (mins.Length != _mins.Length)
                throw new DistillSharpException($"observer '{Name}' saw {_mins.Length} channels before and {mins.Length} now (axis {Axis}, shape [{string.Join(", ", x.shape)}])");
            for (var c = 0; c < mins.Length; c++)
            {
                _mins[c] = Math.Min(_mins[c], mins[c]);
                _maxs[c] = Math.Max(_maxs[c], maxs[c]);
            }
        }
        Count += x.numel();
    }

    /// <inheritdoc/>
    public QuantParams ComputeQParams(QuantSpec spec) => RangeParams.FromRanges(this, _mins, _maxs, Axis, spec);
}

/// <summary>Turns running per-channel ranges into parameters, reducing to per-tensor when asked.</summary>
internal static class RangeParams
{
    public static QuantParams FromRanges(IObserver o, float[]? mins, float[]? maxs, int axis, QuantSpec spec)
    {
        ObserverChecks.RequireObserved(o);
        if (spec.IsPerTensor)
            return QuantReference.ChooseQParams(mins!.Min(), maxs!.Max(), spec);
        if (spec.Axis != axis)
            throw new DistillSharpException($"observer '{o.Name}' kept ranges for axis {axis} but the spec asks for axis {spec.Axis}; create the observer with axis {spec.Axis}");
        return QuantReference.ChooseQParams(mins, maxs, spec);
    }
}

using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization.Observers;

/// <summary>
/// Exponential moving average of each batch's min and max (the first batch is taken as is):
/// m ← momentum · m + (1 − momentum) · batch_m. Follows a drifting activation range during QAT
/// without letting one early outlier batch fix the range forever.
/// </summary>
public sealed class MovingAverageMinMaxObserver : IObserver
{
    private float[]? _mins;
    private float[]? _maxs;

    /// <summary>Creates an observer with EMA weight <paramref name="momentum"/> of the old value, in [0, 1).</summary>
    public MovingAverageMinMaxObserver(double momentum = 0.99, int axis = -1)
    {
        if (!(momentum >= 0 && momentum < 1))
            throw new DistillSharpException($"moving-average momentum must be in [0, 1), got {momentum}");
        Momentum = momentum;
        Axis = axis;
    }

    /// <inheritdoc/>
    public string Name => "moving_average_minmax";

    /// <summary>Weight of the old running value.</summary>
    public double Momentum { get; }

    /// <summary>Channel axis, or -1 for per-tensor.</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public long Count { get; private set; }

    /// <summary>Current running minimum per channel.</summary>
    public IReadOnlyList<float> Mins => _mins ?? [];

    /// <summary>Current running maximum per channel.</summary>
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
                throw new DistillSharpException($"observer '{Name}' saw {_mins.Length} channels before and {mins.Length} now (axis {Axis})");
            var m = (float)Momentum;
            for (var c = 0; c < mins.Length; c++)
            {
                _mins[c] = m * _mins[c] + (1 - m) * mins[c];
                _maxs[c] = m * _maxs[c] + (1 - m) * maxs[c];
            }
        }
        Count += x.numel();
    }

    /// <inheritdoc/>
    public QuantParams ComputeQParams(QuantSpec spec) => RangeParams.FromRanges(this, _mins, _maxs, Axis, spec);
}

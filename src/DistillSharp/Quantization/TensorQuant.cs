using static TorchSharp.torch;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Quantization;

/// <summary>
/// <see cref="QuantReference"/> on TorchSharp tensors. Uses the same float32 operations in the same
/// order (divide, round half to even, add zero point, clamp), so results equal the scalar reference
/// bit for bit; the tests check that.
/// </summary>
public static class TensorQuant
{
    /// <summary>Quantizes a float32 tensor: int8 for signed specs, uint8 for unsigned ones.</summary>
    public static Tensor Quantize(Tensor x, QuantParams p)
    {
        using var scope = NewDisposeScope();
        var (scale, zeroPoint) = Broadcastable(p, x);
        var q = RoundClamp(x, scale, zeroPoint, p.QMin, p.QMax);
        return q.to(p.Signed ? ScalarType.Int8 : ScalarType.Byte).MoveToOuterDisposeScope();
    }

    /// <summary>Dequantizes an integer tensor back to float32: (q - zp) · scale.</summary>
    public static Tensor Dequantize(Tensor q, QuantParams p)
    {
        using var scope = NewDisposeScope();
        var (scale, zeroPoint) = Broadcastable(p, q);
        return ((q.to(ScalarType.Float32) - zeroPoint) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>Quantize → dequantize in float32 without an integer round trip (no gradient).</summary>
    public static Tensor FakeQuantize(Tensor x, QuantParams p)
    {
        using var scope = NewDisposeScope();
        var (scale, zeroPoint) = Broadcastable(p, x);
        return ((RoundClamp(x, scale, zeroPoint, p.QMin, p.QMax) - zeroPoint) * scale).MoveToOuterDisposeScope();
    }

    /// <summary>clamp(round(x / scale) + zp, qmin, qmax) as float32 (integers held exactly).</summary>
    internal static Tensor RoundClamp(Tensor x, Tensor scale, Tensor zeroPoint, int qmin, int qmax) =>
        (x / scale).round_().add_(zeroPoint).clamp_(qmin, qmax);

    /// <summary>Scale and zero point as float32 tensors that broadcast against <paramref name="like"/>:
    /// shape [] per-tensor, [1, …, C, …, 1] per-channel.</summary>
    public static (Tensor Scale, Tensor ZeroPoint) Broadcastable(QuantParams p, Tensor like)
    {
        var scale = tensor(p.Scales, dtype: ScalarType.Float32);
        var zeroPoint = tensor(p.ZeroPoints.Select(z => (float)z).ToArray(), dtype: ScalarType.Float32);
        if (p.Axis < 0) return (scale.reshape(), zeroPoint.reshape());
        if (p.Axis >= like.dim())
            throw new ArgumentException($"channel axis {p.Axis} is outside a tensor of rank {like.dim()}");
        if (like.shape[p.Axis] != p.Channels)
            throw new ArgumentException($"dimension {p.Axis} of shape [{string.Join(", ", like.shape)}] has size {like.shape[p.Axis]} but the parameters have {p.Channels} channels");
        var shape = Enumerable.Repeat(1L, (int)like.dim()).ToArray();
        shape[p.Axis] = p.Channels;
        return (scale.reshape(shape), zeroPoint.reshape(shape));
    }

    /// <summary>Minimum and maximum of a tensor, over everything (axis -1) or per slice along an axis.</summary>
    public static (float[] Mins, float[] Maxs) MinMax(Tensor x, int axis)
    {
        using var scope = NewDisposeScope();
        var v = x.detach().to(ScalarType.Float32);
        if (axis < 0) return ([v.min().item<float>()], [v.max().item<float>()]);
        if (axis >= v.dim())
            throw new ArgumentException($"channel axis {axis} is outside a tensor of rank {v.dim()}");
        var rows = v.movedim([axis], [0L]).reshape(v.shape[axis], -1); // (C, rest)
        return (rows.amin(1).data<float>().ToArray(), rows.amax(1).data<float>().ToArray());
    }

    /// <summary>Copies a tensor's values (any dtype) into a flat float array, row-major.</summary>
    public static float[] ToFloatArray(Tensor x)
    {
        using var scope = NewDisposeScope();
        return x.detach().to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }

    /// <summary>Copies an int8/uint8/int32 tensor's values into a flat int array, row-major.</summary>
    public static int[] ToIntArray(Tensor q)
    {
        using var scope = NewDisposeScope();
        return q.detach().to(ScalarType.Int32).contiguous().data<int>().ToArray();
    }
}

namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// The scalar reference quantizer: the specification every faster path (TorchSharp tensors, fake
/// quant, the C# INT8 runtime's SIMD kernels) is tested against.
/// </summary>
/// <remarks>
/// q = clamp(round_half_to_even(x / scale) + zero_point, qmin, qmax) and
/// x̂ = (q - zero_point) · scale, both in float32 arithmetic (division, not multiplication by a
/// reciprocal, so a tensor implementation can match bit for bit). Round half to even matches
/// torch.round and avoids the upward bias of round-half-away over many ties.
/// </remarks>
public static class QuantReference
{
    /// <summary>Smallest scale ever produced (float32 machine epsilon, as torch.ao uses): keeps an
    /// all-zero or constant-zero tensor from getting scale 0 (division by zero → NaN).</summary>
    public const float MinScale = 1.1920929e-7f;

    /// <summary>Per-tensor parameters for values observed in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    /// <remarks>The range is first widened to include 0 so that 0 is exactly representable (padding,
    /// ReLU zeros). Symmetric: scale = max(|min|, |max|) / qmax, zero point 0. Asymmetric:
    /// scale = (max - min) / (qmax - qmin), zero point = qmin - round(min / scale), clamped.</remarks>
    public static QuantParams ChooseQParams(float min, float max, QuantSpec spec)
    {
        spec.Validate();
        var (scale, zeroPoint) = ChooseOne(min, max, spec);
        return QuantParams.PerTensor(scale, zeroPoint, spec with { Axis = -1 });
    }

    /// <summary>Per-channel parameters: one (min, max) pair per slice along <c>spec.Axis</c>.</summary>
    public static QuantParams ChooseQParams(ReadOnlySpan<float> mins, ReadOnlySpan<float> maxs, QuantSpec spec)
    {
        spec.Validate();
        if (mins.Length != maxs.Length || mins.Length == 0)
            throw new ArgumentException($"need one min and one max per channel, got {mins.Length} mins and {maxs.Length} maxs");
        if (spec.IsPerTensor && mins.Length != 1)
            throw new ArgumentException($"a per-tensor spec takes one (min, max) pair, got {mins.Length}; set spec.Axis for per-channel");
        var scales = new float[mins.Length];
        var zeroPoints = new int[mins.Length];
        for (var c = 0; c < mins.Length; c++)
            (scales[c], zeroPoints[c]) = ChooseOne(mins[c], maxs[c], spec);
        return new QuantParams(scales, zeroPoints, spec.Axis, spec.Bits, spec.IsSigned, spec.Symmetric);
    }

    private static (float Scale, int ZeroPoint) ChooseOne(float min, float max, QuantSpec spec)
    {
        if (!float.IsFinite(min) || !float.IsFinite(max))
            throw new DistillSharpException($"cannot choose quantization parameters for the range [{min}, {max}]: min and max must be finite (NaN or Inf in the observed tensor?)");
        if (min > max)
            throw new ArgumentException($"min ({min}) must be ≤ max ({max})");
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        if (spec.Symmetric)
        {
            var amax = MathF.Max(-min, max);
            return (MathF.Max(amax / spec.QMax, MinScale), 0);
        }
        var scale = MathF.Max((max - min) / (spec.QMax - spec.QMin), MinScale);
        var zp = spec.QMin - (int)MathF.Round(min / scale, MidpointRounding.ToEven);
        return (scale, Math.Clamp(zp, spec.QMin, spec.QMax));
    }

    /// <summary>Quantizes one value: clamp(round_half_even(x / scale) + zp, qmin, qmax).</summary>
    public static int QuantizeValue(float x, float scale, int zeroPoint, int qmin, int qmax)
    {
        var r = MathF.Round(x / scale, MidpointRounding.ToEven) + zeroPoint;
        return (int)Math.Clamp(r, qmin, qmax);
    }

    /// <summary>Dequantizes one value: (q - zp) · scale in float32.</summary>
    public static float DequantizeValue(int q, float scale, int zeroPoint) => (q - zeroPoint) * scale;

    /// <summary>Quantizes a flat per-tensor array.</summary>
    public static int[] Quantize(ReadOnlySpan<float> x, QuantParams p) => Quantize(x, [x.Length], p);

    /// <summary>Quantizes a row-major tensor of <paramref name="shape"/> (per-tensor or per-channel).</summary>
    public static int[] Quantize(ReadOnlySpan<float> x, long[] shape, QuantParams p)
    {
        var (channels, inner) = Layout(x.Length, shape, p);
        var q = new int[x.Length];
        int qmin = p.QMin, qmax = p.QMax;
        for (var i = 0; i < x.Length; i++)
        {
            var c = (int)(i / inner % channels);
            q[i] = QuantizeValue(x[i], p.Scales[c], p.ZeroPoints[c], qmin, qmax);
        }
        return q;
    }

    /// <summary>Dequantizes a flat per-tensor array.</summary>
    public static float[] Dequantize(ReadOnlySpan<int> q, QuantParams p) => Dequantize(q, [q.Length], p);

    /// <summary>Dequantizes a row-major tensor of <paramref name="shape"/> (per-tensor or per-channel).</summary>
    public static float[] Dequantize(ReadOnlySpan<int> q, long[] shape, QuantParams p)
    {
        var (channels, inner) = Layout(q.Length, shape, p);
        var x = new float[q.Length];
        for (var i = 0; i < q.Length; i++)
        {
            var c = (int)(i / inner % channels);
            x[i] = DequantizeValue(q[i], p.Scales[c], p.ZeroPoints[c]);
        }
        return x;
    }

    /// <summary>Quantize then dequantize (what fake quantization computes in its forward pass).</summary>
    public static float[] FakeQuantize(ReadOnlySpan<float> x, long[] shape, QuantParams p) =>
        Dequantize(Quantize(x, shape, p), shape, p);

    /// <summary>Number of channels and the stride (elements per channel step) of a row-major tensor.</summary>
    private static (long Channels, long Inner) Layout(int length, long[] shape, QuantParams p)
    {
        var count = shape.Aggregate(1L, (a, b) => a * b);
        if (count != length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] holds {count} values but {length} were given");
        if (p.Axis < 0) return (1, 1);
        if (p.Axis >= shape.Length)
            throw new ArgumentException($"channel axis {p.Axis} is outside a tensor of rank {shape.Length}");
        if (shape[p.Axis] != p.Channels)
            throw new ArgumentException($"dimension {p.Axis} has size {shape[p.Axis]} but the parameters have {p.Channels} channels");
        var inner = 1L;
        for (var d = p.Axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (p.Channels, inner);
    }
}

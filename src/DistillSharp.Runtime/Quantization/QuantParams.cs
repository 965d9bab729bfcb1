namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// Affine quantization parameters: real = (q - zero_point) · scale. Per-tensor when
/// <see cref="Axis"/> is -1 (one scale, one zero point), otherwise one entry per slice along
/// <see cref="Axis"/>.
/// </summary>
public sealed class QuantParams
{
    /// <summary>Creates parameters; <paramref name="scales"/> and <paramref name="zeroPoints"/> must have equal length.</summary>
    public QuantParams(float[] scales, int[] zeroPoints, int axis, int bits, bool signed, bool symmetric)
    {
        if (scales.Length == 0 || scales.Length != zeroPoints.Length)
            throw new ArgumentException($"need as many zero points as scales (≥ 1), got {scales.Length} scales and {zeroPoints.Length} zero points");
        if (axis < 0 && scales.Length != 1)
            throw new ArgumentException($"per-tensor parameters (axis -1) need one scale, got {scales.Length}");
        foreach (var s in scales)
            if (!(s > 0) || float.IsInfinity(s))
                throw new ArgumentException($"scales must be finite and > 0, got {s}");
        Scales = scales;
        ZeroPoints = zeroPoints;
        Axis = axis;
        Bits = bits;
        Signed = signed;
        Symmetric = symmetric;
    }

    /// <summary>Scale per channel (length 1 when per-tensor).</summary>
    public float[] Scales { get; }

    /// <summary>Zero point per channel (all 0 when symmetric).</summary>
    public int[] ZeroPoints { get; }

    /// <summary>Channel axis, or -1 for per-tensor.</summary>
    public int Axis { get; }

    /// <summary>Bit width (8 or 4).</summary>
    public int Bits { get; }

    /// <summary>Whether the integers are signed.</summary>
    public bool Signed { get; }

    /// <summary>Whether the mapping is symmetric (zero point 0, range [-qmax, qmax]).</summary>
    public bool Symmetric { get; }

    /// <summary>The spec these parameters satisfy.</summary>
    public QuantSpec Spec => new(Bits, Symmetric, Axis, Signed);

    /// <summary>Smallest integer.</summary>
    public int QMin => Spec.QMin;

    /// <summary>Largest integer.</summary>
    public int QMax => Spec.QMax;

    /// <summary>Per-tensor scale; throws when the parameters are per-channel.</summary>
    public float Scale => Axis < 0 ? Scales[0] : throw new InvalidOperationException("per-channel parameters have no single scale");

    /// <summary>Per-tensor zero point; throws when the parameters are per-channel.</summary>
    public int ZeroPoint => Axis < 0 ? ZeroPoints[0] : throw new InvalidOperationException("per-channel parameters have no single zero point");

    /// <summary>Number of channels (1 when per-tensor).</summary>
    public int Channels => Scales.Length;

    /// <summary>Per-tensor parameters from one scale and zero point.</summary>
    public static QuantParams PerTensor(float scale, int zeroPoint, QuantSpec spec) =>
        new([scale], [zeroPoint], -1, spec.Bits, spec.IsSigned, spec.Symmetric);

    /// <inheritdoc/>
    public override string ToString() =>
        Axis < 0 ? $"QuantParams(scale={Scales[0]:R}, zp={ZeroPoints[0]}, {Bits}-bit {(Symmetric ? "sym" : "asym")})"
                 : $"QuantParams({Channels} channels on axis {Axis}, {Bits}-bit {(Symmetric ? "sym" : "asym")})";
}

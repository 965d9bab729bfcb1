namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// What a quantizer must produce: bit width, symmetric or asymmetric mapping, per-tensor
/// (<see cref="Axis"/> = -1) or per-channel along <see cref="Axis"/>, and signedness.
/// </summary>
/// <remarks>
/// Integer ranges (see docs/QUANTIZATION.md):
/// symmetric signed 8-bit = [-127, 127] (zero point 0; -128 is never produced so the range is
/// symmetric, |q| ≤ 127 keeps int8 × int8 products of the u8×s8 runtime kernels from saturating, and
/// negating a value never overflows); asymmetric unsigned 8-bit = [0, 255] with a zero point;
/// asymmetric signed 8-bit = [-128, 127] with a zero point; 4-bit: [-7, 7] symmetric, [0, 15]
/// asymmetric unsigned.
/// </remarks>
public sealed record QuantSpec(int Bits = 8, bool Symmetric = true, int Axis = -1, bool? Signed = null)
{
    /// <summary>Symmetric signed 8-bit per-tensor: [-127, 127], zero point 0.</summary>
    public static QuantSpec Int8Symmetric { get; } = new(8, true);

    /// <summary>Asymmetric unsigned 8-bit per-tensor: [0, 255] with a zero point.</summary>
    public static QuantSpec UInt8Asymmetric { get; } = new(8, false);

    /// <summary>Symmetric signed 8-bit, one scale per slice along <paramref name="axis"/>.</summary>
    public static QuantSpec Int8PerChannel(int axis = 0) => new(8, true, axis);

    /// <summary>Symmetric signed 4-bit ([-7, 7]) per channel: the weight-only 4-bit format.</summary>
    public static QuantSpec Int4PerChannel(int axis = 0) => new(4, true, axis);

    /// <summary>True when the integers are signed (symmetric specs always are).</summary>
    public bool IsSigned => Signed ?? Symmetric;

    /// <summary>True when one scale covers the whole tensor.</summary>
    public bool IsPerTensor => Axis < 0;

    /// <summary>Smallest integer the quantizer emits.</summary>
    public int QMin => Symmetric ? -QMaxSymmetric : IsSigned ? -(1 << (Bits - 1)) : 0;

    /// <summary>Largest integer the quantizer emits.</summary>
    public int QMax => Symmetric ? QMaxSymmetric : IsSigned ? (1 << (Bits - 1)) - 1 : (1 << Bits) - 1;

    private int QMaxSymmetric => (1 << (Bits - 1)) - 1;

    /// <summary>Throws <see cref="DistillSharpException"/> unless the spec is one we implement.</summary>
    public QuantSpec Validate()
    {
        if (Bits != 8 && Bits != 4)
            throw new DistillSharpException($"quantization bits must be 8 or 4, got {Bits}");
        if (Symmetric && Signed == false)
            throw new DistillSharpException("a symmetric quantization spec must be signed (Signed=false was given); use Symmetric=false for unsigned [0, 2^bits-1]");
        if (Axis < -1)
            throw new DistillSharpException($"quantization axis must be -1 (per-tensor) or a dimension ≥ 0, got {Axis}");
        return this;
    }

    /// <summary>The same spec with a different axis (-1 = per-tensor).</summary>
    public QuantSpec WithAxis(int axis) => this with { Axis = axis };
}

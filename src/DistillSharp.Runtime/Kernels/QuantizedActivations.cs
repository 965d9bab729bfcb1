namespace DistillSharp.Runtime.Kernels;

/// <summary>How activations are quantized: per row (token), or one scale for the whole matrix.</summary>
public enum ActivationQuantization
{
    /// <summary>uint8 with a per-row zero point: q = clamp(round(x/s) + zp, 0, 255).</summary>
    AsymmetricU8,
    /// <summary>int8 without zero point: q = clamp(round(x/s), −127, 127).</summary>
    SymmetricS8,
    /// <summary>
    /// uint8 with one scale and zero point from the min and max of all rows of the call (ONNX
    /// <c>DynamicQuantizeLinear</c>, what ONNX Runtime's fused DynamicQuantizeMatMul computes); every row
    /// stores the same parameters. For comparisons: coarser than per row.
    /// </summary>
    PerTensorAsymmetricU8,
}

/// <summary>
/// A reusable buffer of per-row quantized activations: <c>Rows × Cols</c> bytes with a row stride
/// rounded up to 4 (the GEMM reads K in groups of 4; padding bytes are 0) plus one scale and one
/// zero point per row.
/// </summary>
/// <remarks>
/// Both schemes are stored as unsigned bytes so every GEMM kernel has one input path: symmetric
/// int8 values are stored offset by 128 (byte = q + 128) with zero point 128. The integer a row
/// element stands for is always <c>byte − zeroPoint</c>, and the real value is that times the
/// row scale. Capacity only grows, so steady-state use does not allocate. The storage keeps
/// <see cref="SlackRows"/> more rows than asked for, so a kernel that loads whole 16-row tiles
/// (<see cref="AmxTiles"/>) never reads past the array.
/// </remarks>
public sealed class QuantizedActivations
{
    byte[] _data;
    float[] _scales;
    int[] _zeroPoints;

    /// <summary>Rows of readable bytes past the last row (contents unspecified).</summary>
    public const int SlackRows = 16;

    /// <summary>Creates a buffer for up to <paramref name="rowCapacity"/> rows of <paramref name="cols"/> values.</summary>
    public QuantizedActivations(int rowCapacity, int cols, ActivationQuantization scheme)
    {
        if (cols <= 0) throw new DistillSharpException($"cols must be > 0, got {cols}.");
        if (rowCapacity < 0) throw new DistillSharpException($"rowCapacity must be >= 0, got {rowCapacity}.");
        if (!Enum.IsDefined(scheme))
            throw new DistillSharpException($"Unknown activation quantization {scheme}; known: {string.Join(", ", Enum.GetNames<ActivationQuantization>())}.");
        Cols = cols;
        Stride = (cols + 3) & ~3;
        Scheme = scheme;
        _data = new byte[(rowCapacity + SlackRows) * Stride];
        _scales = new float[rowCapacity];
        _zeroPoints = new int[rowCapacity];
    }

    /// <summary>Number of valid rows (set by the quantizer).</summary>
    public int Rows { get; private set; }

    /// <summary>Values per row (K of the GEMM).</summary>
    public int Cols { get; }

    /// <summary>Bytes between row starts: <see cref="Cols"/> rounded up to a multiple of 4.</summary>
    public int Stride { get; }

    /// <summary>The quantization scheme the rows use.</summary>
    public ActivationQuantization Scheme { get; }

    /// <summary>Row-major bytes, <see cref="Rows"/> × <see cref="Stride"/> valid.</summary>
    public Span<byte> Data => _data.AsSpan(0, Rows * Stride);

    /// <summary>Scale of each row.</summary>
    public Span<float> Scales => _scales.AsSpan(0, Rows);

    /// <summary>Zero point of each row (128 for <see cref="ActivationQuantization.SymmetricS8"/>).</summary>
    public Span<int> ZeroPoints => _zeroPoints.AsSpan(0, Rows);

    /// <summary>The integer a stored element stands for: byte − zero point.</summary>
    public int Value(int row, int col) => _data[row * Stride + col] - _zeroPoints[row];

    /// <summary>Sets the number of valid rows, growing the storage if needed (padding stays 0).</summary>
    public void SetRows(int rows)
    {
        if (rows < 0) throw new DistillSharpException($"rows must be >= 0, got {rows}.");
        if (rows > _scales.Length)
        {
            Array.Resize(ref _data, (rows + SlackRows) * Stride);
            Array.Resize(ref _scales, rows);
            Array.Resize(ref _zeroPoints, rows);
        }
        Rows = rows;
    }
}

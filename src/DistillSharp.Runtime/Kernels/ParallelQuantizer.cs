namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// <see cref="ActivationQuantizer.Quantize"/> spread over a kernel thread pool in chunks of rows
/// (each row's parameters and bytes depend on that row only, so the result is the same; the
/// per-tensor scheme runs on the calling thread). One call at a time; nothing is allocated per call.
/// </summary>
internal sealed unsafe class ParallelQuantizer(KernelThreadPool? pool) : IParallelJob
{
    const int ChunkRows = 16;
    float* _x;
    int _rows;
    QuantizedActivations? _dst;
    StaticActivation? _fixed;

    /// <summary>Quantizes <paramref name="rows"/> rows of <paramref name="x"/> into <paramref name="dst"/>:
    /// parameters from the data (dynamic), or the calibrated <paramref name="fixedParams"/> (static).</summary>
    public void Quantize(ReadOnlySpan<float> x, int rows, QuantizedActivations dst, StaticActivation? fixedParams = null)
    {
        ActivationQuantizer.Prepare(x, rows, dst);
        int chunks = (rows + ChunkRows - 1) / ChunkRows;
        if (pool is null || chunks < 2 || (fixedParams is null && !ActivationQuantizer.IsPerRow(dst.Scheme)))
        {
            Rows(x, 0, rows, dst, fixedParams);
            return;
        }
        fixed (float* px = x)
        {
            _x = px; _rows = rows; _dst = dst; _fixed = fixedParams;
            try { pool.Run(this, chunks); }
            finally { _x = null; _dst = null; _fixed = null; }
        }
    }

    /// <inheritdoc/>
    public void RunChunk(int chunk)
    {
        var dst = _dst!;
        int r0 = chunk * ChunkRows, r1 = Math.Min(_rows, r0 + ChunkRows);
        Rows(new ReadOnlySpan<float>(_x, _rows * dst.Cols), r0, r1, dst, _fixed);
    }

    static void Rows(ReadOnlySpan<float> x, int r0, int r1, QuantizedActivations dst, StaticActivation? f)
    {
        if (f is { } p) ActivationQuantizer.QuantizeRowsFixed(x, r0, r1, dst, simd: true, p.Scale, p.StoredZeroPoint(dst.Scheme));
        else ActivationQuantizer.QuantizeRows(x, r0, r1, dst, simd: true);
    }
}

/// <summary>A static recipe's calibrated input parameters of one Linear: q = clamp(round(x/s) + zp).</summary>
/// <param name="Scale">Per-tensor scale (> 0).</param>
/// <param name="ZeroPoint">Zero point as calibrated: 0 for symmetric int8, 0–255 for uint8.</param>
internal readonly record struct StaticActivation(float Scale, int ZeroPoint)
{
    /// <summary>The zero point as a <see cref="QuantizedActivations"/> buffer of <paramref name="scheme"/> stores it (symmetric int8 is offset by 128).</summary>
    public int StoredZeroPoint(ActivationQuantization scheme) => scheme == ActivationQuantization.SymmetricS8 ? ZeroPoint + 128 : ZeroPoint;
}

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

    /// <summary>Quantizes <paramref name="rows"/> rows of <paramref name="x"/> into <paramref name="dst"/>.</summary>
    public void Quantize(ReadOnlySpan<float> x, int rows, QuantizedActivations dst)
    {
        ActivationQuantizer.Prepare(x, rows, dst);
        int chunks = (rows + ChunkRows - 1) / ChunkRows;
        if (pool is null || chunks < 2 || !ActivationQuantizer.IsPerRow(dst.Scheme))
        {
            ActivationQuantizer.QuantizeRows(x, 0, rows, dst, simd: true);
            return;
        }
        fixed (float* px = x)
        {
            _x = px; _rows = rows; _dst = dst;
            try { pool.Run(this, chunks); }
            finally { _x = null; _dst = null; }
        }
    }

    /// <inheritdoc/>
    public void RunChunk(int chunk)
    {
        var dst = _dst!;
        int r0 = chunk * ChunkRows, r1 = Math.Min(_rows, r0 + ChunkRows);
        ActivationQuantizer.QuantizeRows(new ReadOnlySpan<float>(_x, _rows * dst.Cols), r0, r1, dst, simd: true);
    }
}

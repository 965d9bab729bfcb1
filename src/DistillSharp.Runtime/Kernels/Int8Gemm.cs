using System.Runtime.CompilerServices;

namespace DistillSharp.Runtime.Kernels;

/// <summary>Options of an <see cref="Int8Gemm"/>.</summary>
/// <param name="Kernel">Registry name of the micro-kernel; null = <see cref="Int8KernelRegistry.Best"/>.</param>
/// <param name="Threads">Threads per call (the caller included), ≥ 1.</param>
public sealed record Int8GemmOptions(string? Kernel = null, int Threads = 1);

/// <summary>
/// C[M, N] = act(dequant(A[M, K] · B[K, N]) + bias) with u8/s8 activations (per-row scale and zero
/// point) and packed s8 weights (per-column scale). Zero points are corrected exactly with the
/// weights' column sums, so every kernel yields the same int32 sums as <see cref="Int8GemmReference"/>
/// and, through the shared <see cref="GemmEpilogue"/>, the same floats.
/// </summary>
/// <remarks>
/// Work is cut into chunks of (row range × one 16-column weight block) that the threads of a
/// <see cref="KernelThreadPool"/> grab dynamically; inside a chunk the weight block stays in L1
/// under all row tiles. Every output element is computed by the same code whichever thread runs
/// it, so results do not depend on the thread count. An instance holds its thread pool and job
/// state: no allocation per call, one call at a time.
/// </remarks>
public sealed unsafe class Int8Gemm : IDisposable
{
    readonly KernelThreadPool? _pool;
    readonly bool _ownsPool;
    readonly ChunkJob _job;
    // Per-call state read by the parallel parts; valid only during Multiply.
    byte* _a; nint _lda; int _rows; float* _rowScales; int* _zeroPoints;
    PackedInt8Weights? _w; float* _colScales; int* _colSums; sbyte* _b; float* _bias; float* _c;
    GemmActivation _act;
    int _chunkRows, _rowChunks;

    /// <summary>Creates a GEMM with the given options (defaults: best kernel, 1 thread).</summary>
    public Int8Gemm(Int8GemmOptions? options = null)
    {
        options ??= new Int8GemmOptions();
        if (options.Threads < 1) throw new DistillSharpException($"Threads must be >= 1, got {options.Threads}.");
        Kernel = options.Kernel is null ? Int8KernelRegistry.Best : Int8KernelRegistry.Get(options.Kernel);
        Threads = options.Threads;
        if (Threads > 1) _pool = new KernelThreadPool(Threads);
        _ownsPool = true;
        _job = new ChunkJob(this);
    }

    /// <summary>A GEMM that runs on <paramref name="pool"/> (not disposed with it; null = the calling thread only).</summary>
    public Int8Gemm(string? kernel, KernelThreadPool? pool)
    {
        Kernel = kernel is null ? Int8KernelRegistry.Best : Int8KernelRegistry.Get(kernel);
        Threads = pool?.Threads ?? 1;
        _pool = pool;
        _job = new ChunkJob(this);
    }

    /// <summary>The micro-kernel in use.</summary>
    public Int8Kernel Kernel { get; }

    /// <summary>Threads per call.</summary>
    public int Threads { get; }

    /// <summary>
    /// Writes <c>a.Rows × w.N</c> outputs (row-major) to <paramref name="output"/>; <paramref name="bias"/>
    /// is empty or has <c>w.N</c> values.
    /// </summary>
    public void Multiply(QuantizedActivations a, PackedInt8Weights w, ReadOnlySpan<float> bias, Span<float> output,
        GemmActivation activation = GemmActivation.None)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(w);
        if (a.Cols != w.K) throw new DistillSharpException($"Activations have K={a.Cols} but weights have K={w.K}.");
        if (!bias.IsEmpty && bias.Length != w.N) throw new DistillSharpException($"Bias has {bias.Length} values; expected 0 or N={w.N}.");
        if (output.Length != a.Rows * w.N)
            throw new DistillSharpException($"Output has {output.Length} values; expected M ({a.Rows}) × N ({w.N}).");
        if (a.Rows == 0) return;
        fixed (byte* pa = a.Data) fixed (float* prs = a.Scales) fixed (int* pzp = a.ZeroPoints)
        fixed (float* pcs = w.Scales) fixed (int* psum = w.ColumnSums) fixed (sbyte* pb = w.Data)
        fixed (float* pbias = bias) fixed (float* pc = output)
        {
            _a = pa; _lda = a.Stride; _rows = a.Rows; _rowScales = prs; _zeroPoints = pzp;
            _w = w; _colScales = pcs; _colSums = psum; _b = pb;
            _bias = bias.IsEmpty ? null : pbias; _c = pc; _act = activation;
            // Chunks: (row range, one 16-column weight block). Row ranges hold about 128 KiB of
            // activations (so they stay in L2 while the blocks go by), and are cut finer when there
            // are too few blocks to keep every thread busy.
            int mr = Kernel.TileRows;
            int cacheRows = Math.Max(mr, 128 * 1024 / a.Stride / mr * mr);
            int rowsPerThread = ((a.Rows + 2 * Threads - 1) / (2 * Threads) + mr - 1) / mr * mr;
            int groups = (w.Blocks + Kernel.TileBlocks - 1) / Kernel.TileBlocks;
            _chunkRows = groups >= 2 * Threads ? cacheRows : Math.Min(cacheRows, rowsPerThread);
            _rowChunks = (a.Rows + _chunkRows - 1) / _chunkRows;
            int chunks = _rowChunks * groups;
            try
            {
                if (_pool is null) for (int c = 0; c < chunks; c++) ComputeChunk(c);
                else _pool.Run(_job, chunks);
            }
            finally { _w = null; _a = null; _c = null; }
        }
    }

    sealed class ChunkJob(Int8Gemm owner) : IParallelJob
    {
        public void RunChunk(int chunk) => owner.ComputeChunk(chunk);
    }

    // One chunk: the rows of row chunk (chunk / groups) × the weight blocks of block group (chunk % groups),
    // a group being the TileBlocks blocks one micro-kernel call covers.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code in short runs
    void ComputeChunk(int chunk)
    {
        var w = _w!;
        var kernel = Kernel;
        int mr = kernel.TileRows, tb = kernel.TileBlocks, groups = (w.Blocks + tb - 1) / tb, accStride = tb * PackedInt8Weights.BlockColumns;
        int j0 = chunk % groups * tb, blocks = Math.Min(tb, w.Blocks - j0);
        int m0 = chunk / groups * _chunkRows, m1 = Math.Min(_rows, m0 + _chunkRows);
        int* acc = stackalloc int[MaxTileInts];
        var tile = kernel.Tile;
        int offset = kernel.InputOffset, n = w.N;
        sbyte* first = _b + (nint)j0 * w.BlockStride;
        int n0 = j0 * PackedInt8Weights.BlockColumns, cols = Math.Min(blocks * PackedInt8Weights.BlockColumns, n - n0);
        int* negCorrections = stackalloc int[Int8TileKernels.MaxRows];
        bool folded = kernel.FoldsCorrection;
        for (int m = m0; m < m1; m += mr)
        {
            int rows = Math.Min(mr, m1 - m);
            for (int r = 0; r < rows; r++) negCorrections[r] = offset - _zeroPoints[m + r];
            tile(_a + m * _lda, _lda, first, w.KGroups, rows, blocks, w.BlockStride, acc, negCorrections, _colSums + n0);
            for (int r = 0; r < rows; r++)
                GemmEpilogue.Row(acc + r * accStride, cols, folded ? 0 : _zeroPoints[m + r] - offset,
                    _rowScales[m + r], n0, _colSums, _colScales, _bias, _act, _c + (nint)(m + r) * n + n0);
        }
    }

    // Accumulator ints of the largest tile any kernel writes.
    const int MaxTileInts = Avx512VnniTiles.MaxRows * Avx512VnniTiles.AccumulatorStride;

    /// <summary>Stops the thread pool if this GEMM created it.</summary>
    public void Dispose()
    {
        if (_ownsPool) _pool?.Dispose();
    }
}

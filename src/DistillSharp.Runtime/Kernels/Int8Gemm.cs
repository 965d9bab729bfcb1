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
/// <see cref="MultiplyQuantize"/> is the same product for a layer whose output only feeds another
/// int8 layer: chunks are whole rows, each computed into a per-thread scratch (L2-resident) and
/// quantized from there, so the fp32 matrix never goes to memory.
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
    Int8Kernel _kernel = null!;            // this call's kernel: Kernel, or its fallback for K it cannot run
    int _chunkRows, _rowChunks;
    QuantizedActivations? _quantized;      // MultiplyQuantize's destination
    [ThreadStatic] static float[]? t_rows;  // its per-thread fp32 rows

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
        Check(a, w, bias);
        if (output.Length != a.Rows * w.N)
            throw new DistillSharpException($"Output has {output.Length} values; expected M ({a.Rows}) × N ({w.N}).");
        fixed (float* pc = output) Run(a, w, bias, activation, pc, null);
    }

    /// <summary>
    /// The rows <see cref="Multiply"/> would write, quantized per row into <paramref name="output"/>
    /// (<c>w.N</c> columns) exactly as <see cref="ActivationQuantizer.Quantize"/> quantizes them.
    /// </summary>
    public void MultiplyQuantize(QuantizedActivations a, PackedInt8Weights w, ReadOnlySpan<float> bias, QuantizedActivations output,
        GemmActivation activation = GemmActivation.None)
    {
        Check(a, w, bias);
        ArgumentNullException.ThrowIfNull(output);
        if (output.Cols != w.N) throw new DistillSharpException($"Quantized output has {output.Cols} columns; expected N={w.N}.");
        output.SetRows(a.Rows);
        Run(a, w, bias, activation, null, output);
    }

    static void Check(QuantizedActivations a, PackedInt8Weights w, ReadOnlySpan<float> bias)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(w);
        if (a.Cols != w.K) throw new DistillSharpException($"Activations have K={a.Cols} but weights have K={w.K}.");
        if (!bias.IsEmpty && bias.Length != w.N) throw new DistillSharpException($"Bias has {bias.Length} values; expected 0 or N={w.N}.");
    }

    void Run(QuantizedActivations a, PackedInt8Weights w, ReadOnlySpan<float> bias, GemmActivation activation, float* output,
        QuantizedActivations? quantized)
    {
        if (a.Rows == 0) return;
        fixed (byte* pa = a.Data) fixed (float* prs = a.Scales) fixed (int* pzp = a.ZeroPoints)
        fixed (float* pcs = w.Scales) fixed (int* psum = w.ColumnSums) fixed (sbyte* pb = w.Data)
        fixed (float* pbias = bias)
        {
            _a = pa; _lda = a.Stride; _rows = a.Rows; _rowScales = prs; _zeroPoints = pzp;
            _w = w; _colScales = pcs; _colSums = psum; _b = pb;
            _bias = bias.IsEmpty ? null : pbias; _c = output; _act = activation; _quantized = quantized;
            _kernel = Kernel.For(w);
            int mr = _kernel.TileRows;
            int groups = (w.Blocks + _kernel.TileBlocks - 1) / _kernel.TileBlocks;
            int chunks;
            if (quantized is null)
            {
                // Chunks: (row range, one block group). Row ranges hold about 128 KiB of activations
                // (so they stay in L2 while the blocks go by), and are cut finer when there are too
                // few groups to keep every thread busy.
                int cacheRows = Math.Max(mr, 128 * 1024 / a.Stride / mr * mr);
                int rowsPerThread = ((a.Rows + 2 * Threads - 1) / (2 * Threads) + mr - 1) / mr * mr;
                _chunkRows = groups >= 2 * Threads ? cacheRows : Math.Min(cacheRows, rowsPerThread);
                _rowChunks = (a.Rows + _chunkRows - 1) / _chunkRows;
                chunks = _rowChunks * groups;
            }
            else
            {
                // Chunks: whole rows, at most two tiles high (their fp32 rows stay in L2 until
                // quantized) and small enough that every thread gets two.
                int perThread = (a.Rows + 2 * Threads - 1) / (2 * Threads);
                _chunkRows = Math.Max(mr, Math.Min(2 * mr, (perThread + mr - 1) / mr * mr));
                _rowChunks = (a.Rows + _chunkRows - 1) / _chunkRows;
                chunks = _rowChunks;
            }
            try
            {
                if (_pool is null) for (int c = 0; c < chunks; c++) ComputeChunk(c);
                else _pool.Run(_job, chunks);
            }
            finally { _w = null; _a = null; _c = null; _quantized = null; }
        }
    }

    sealed class ChunkJob(Int8Gemm owner) : IParallelJob
    {
        public void RunChunk(int chunk) => owner.ComputeChunk(chunk);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code in short runs
    void ComputeChunk(int chunk)
    {
        var w = _w!;
        int tb = _kernel.TileBlocks, groups = (w.Blocks + tb - 1) / tb;
        if (_quantized is not { } q)
        {
            // The rows of row chunk (chunk / groups) × the blocks of block group (chunk % groups).
            int m0 = chunk / groups * _chunkRows;
            ComputeTiles(m0, Math.Min(_rows, m0 + _chunkRows), chunk % groups, _c, w.N);
            return;
        }
        int r0 = chunk * _chunkRows, r1 = Math.Min(_rows, r0 + _chunkRows), n = w.N;
        int need = _chunkRows * n;
        // Grown geometrically from 64 KB: a thread that meets a larger chunk later (the caller thread takes
        // whichever passes are left) allocates at most a few times, not once per new size.
        if (t_rows is null || t_rows.Length < need)
            t_rows = GC.AllocateArray<float>(Math.Max(need, Math.Max(16384, 2 * (t_rows?.Length ?? 0))), pinned: true);
        fixed (float* rows = t_rows)
        {
            float* c = rows - (nint)r0 * n;  // row r of the chunk lives at rows + (r − r0)·n
            for (int g = 0; g < groups; g++) ComputeTiles(r0, r1, g, c, n);
            for (int r = r0; r < r1; r++) ActivationQuantizer.QuantizeRow(new ReadOnlySpan<float>(c + (nint)r * n, n), r, q, simd: true);
        }
    }

    // Rows [m0, m1) × the blocks of block group g (TileBlocks blocks one micro-kernel call covers),
    // written to c (row r at c + r·ldc).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void ComputeTiles(int m0, int m1, int g, float* c, nint ldc)
    {
        var w = _w!;
        var kernel = _kernel;
        int mr = kernel.TileRows, tb = kernel.TileBlocks, accStride = tb * PackedInt8Weights.BlockColumns;
        int j0 = g * tb, blocks = Math.Min(tb, w.Blocks - j0);
        int* acc = stackalloc int[MaxTileInts];
        var tile = kernel.Tile;
        int offset = kernel.InputOffset;
        sbyte* first = _b + (nint)j0 * w.BlockStride;
        int n0 = j0 * PackedInt8Weights.BlockColumns, cols = Math.Min(blocks * PackedInt8Weights.BlockColumns, w.N - n0);
        int* negCorrections = stackalloc int[MaxTileRows];
        bool folded = kernel.FoldsCorrection;
        for (int m = m0; m < m1; m += mr)
        {
            int rows = Math.Min(mr, m1 - m);
            for (int r = 0; r < rows; r++) negCorrections[r] = offset - _zeroPoints[m + r];
            tile(_a + m * _lda, _lda, first, w.KGroups, rows, blocks, w.BlockStride, acc, negCorrections, _colSums + n0);
            for (int r = 0; r < rows; r++)
                GemmEpilogue.Row(acc + r * accStride, cols, folded ? 0 : _zeroPoints[m + r] - offset,
                    _rowScales[m + r], n0, _colSums, _colScales, _bias, _act, c + (m + r) * ldc + n0);
        }
    }

    // Accumulator ints of the largest tile any kernel writes, and its most rows.
    const int MaxTileInts = AmxTiles.MaxRows * AmxTiles.MaxBlocks * PackedInt8Weights.BlockColumns;
    const int MaxTileRows = AmxTiles.MaxRows;

    /// <summary>Stops the thread pool if this GEMM created it.</summary>
    public void Dispose()
    {
        if (_ownsPool) _pool?.Dispose();
    }
}

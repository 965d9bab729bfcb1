using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// fp32 weights of a Linear layer packed for <see cref="Fp32Gemm"/>: blocks of 16 output columns,
/// inside a block K rows of 16 floats (<c>Data[block][k][c] = W[16·block + c, k]</c>), padding 0.
/// One 16-float row is two <see cref="Vector256{T}"/> loads.
/// </summary>
public sealed class PackedFp32Weights
{
    /// <summary>Columns per block.</summary>
    public const int BlockColumns = 16;

    /// <summary>Packs <paramref name="weights"/> in nn.Linear's layout, <c>[N, K]</c> row-major.</summary>
    public PackedFp32Weights(ReadOnlySpan<float> weights, int n, int k)
    {
        if (n <= 0 || k <= 0) throw new DistillSharpException($"Weight shape must be positive, got N={n}, K={k}.");
        if (weights.Length != (long)n * k)
            throw new DistillSharpException($"Weights have {weights.Length} values; expected N ({n}) × K ({k}) = {(long)n * k}.");
        N = n;
        K = k;
        Blocks = (n + BlockColumns - 1) / BlockColumns;
        Data = GC.AllocateArray<float>(Blocks * BlockStride, pinned: true);
        for (int col = 0; col < n; col++)
            for (int kk = 0; kk < k; kk++)
                Data[col / BlockColumns * BlockStride + kk * BlockColumns + col % BlockColumns] = weights[col * k + kk];
    }

    /// <summary>Output columns.</summary>
    public int N { get; }

    /// <summary>Input features.</summary>
    public int K { get; }

    /// <summary>Number of 16-column blocks.</summary>
    public int Blocks { get; }

    /// <summary>Floats per block: K × 16.</summary>
    public int BlockStride => K * BlockColumns;

    /// <summary>The packed floats (pinned).</summary>
    public float[] Data { get; }
}

/// <summary>
/// C[M, N] = act(A[M, K] · Wᵀ + bias) in fp32 with <see cref="Vector256{T}"/> fused multiply-adds:
/// the fallback for Linear layers that are not quantized. A 4×16 micro-tile keeps 8 accumulators
/// in registers; each output element is the same sequential FMA chain over k whichever tile, row
/// position or thread computes it, so results do not depend on the batch or the thread count.
/// </summary>
public static unsafe class Fp32Gemm
{
    const int TileRows = 4;

    /// <summary>
    /// Multiplies rows <c>[0, rows)</c> of <paramref name="a"/> (row stride K) by <paramref name="w"/>;
    /// <paramref name="bias"/> is empty or has N values. Runs on <paramref name="pool"/> when given.
    /// </summary>
    public static void Multiply(ReadOnlySpan<float> a, int rows, PackedFp32Weights w, ReadOnlySpan<float> bias, Span<float> output,
        GemmActivation activation, KernelThreadPool? pool, Job job)
    {
        if (a.Length < (long)rows * w.K) throw new DistillSharpException($"GEMM input has {a.Length} floats; expected rows ({rows}) × K ({w.K}).");
        if (output.Length < (long)rows * w.N) throw new DistillSharpException($"GEMM output has {output.Length} floats; expected rows ({rows}) × N ({w.N}).");
        if (!bias.IsEmpty && bias.Length != w.N) throw new DistillSharpException($"Bias has {bias.Length} values; expected 0 or N={w.N}.");
        if (rows == 0) return;
        fixed (float* pa = a) fixed (float* pb = bias) fixed (float* pc = output)
        {
            job.Set(pa, rows, w, bias.IsEmpty ? null : pb, pc, activation);
            int chunks = job.RowChunks * w.Blocks;
            if (pool is null) for (int c = 0; c < chunks; c++) job.RunChunk(c);
            else pool.Run(job, chunks);
            job.Clear();
        }
    }

    /// <summary>Per-call state of <see cref="Multiply"/>, reused so that a call allocates nothing.</summary>
    public sealed class Job : IParallelJob
    {
        const int ChunkRows = 64;
        float* _a, _bias, _c;
        int _rows;
        PackedFp32Weights? _w;
        GemmActivation _act;

        internal int RowChunks => (_rows + ChunkRows - 1) / ChunkRows;

        internal void Set(float* a, int rows, PackedFp32Weights w, float* bias, float* c, GemmActivation act)
        {
            _a = a; _rows = rows; _w = w; _bias = bias; _c = c; _act = act;
        }

        internal void Clear() { _a = null; _c = null; _bias = null; _w = null; }

        /// <inheritdoc/>
        public void RunChunk(int chunk)
        {
            var w = _w!;
            int jb = chunk % w.Blocks, m0 = chunk / w.Blocks * ChunkRows, m1 = Math.Min(_rows, m0 + ChunkRows);
            int n0 = jb * PackedFp32Weights.BlockColumns, cols = Math.Min(PackedFp32Weights.BlockColumns, w.N - n0);
            fixed (float* block = &w.Data[jb * w.BlockStride])
                for (int m = m0; m < m1; m += TileRows)
                    Tile(_a + (nint)m * w.K, w.K, Math.Min(TileRows, m1 - m), block, n0, cols, _bias, _act, _c + (nint)m * w.N + n0, w.N);
        }
    }

    // Up to 4 rows × 16 columns. Missing rows re-read row 0 and are not stored, so every stored
    // element comes from the same instruction sequence.
    static void Tile(float* a, int k, int rows, float* block, int n0, int cols, float* bias, GemmActivation act, float* c, int ldc)
    {
        float* a0 = a, a1 = rows > 1 ? a + k : a, a2 = rows > 2 ? a + 2 * k : a, a3 = rows > 3 ? a + 3 * k : a;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int kk = 0; kk < k; kk++)
        {
            var b0 = Vector256.Load(block + kk * 16);
            var b1 = Vector256.Load(block + kk * 16 + 8);
            var x = Vector256.Create(a0[kk]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[kk]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[kk]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[kk]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
        }
        Store(c00, c01, n0, cols, bias, act, c);
        if (rows > 1) Store(c10, c11, n0, cols, bias, act, c + ldc);
        if (rows > 2) Store(c20, c21, n0, cols, bias, act, c + 2 * ldc);
        if (rows > 3) Store(c30, c31, n0, cols, bias, act, c + 3 * ldc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(Vector256<float> lo, Vector256<float> hi, int n0, int cols, float* bias, GemmActivation act, float* c)
    {
        if (bias != null)
        {
            // Padding columns (beyond N) read bias from a zero-filled copy so the loads stay in bounds.
            if (cols == 16) { lo += Vector256.Load(bias + n0); hi += Vector256.Load(bias + n0 + 8); }
            else
            {
                float* padded = stackalloc float[16];
                for (int i = 0; i < 16; i++) padded[i] = i < cols ? bias[n0 + i] : 0f;
                lo += Vector256.Load(padded); hi += Vector256.Load(padded + 8);
            }
        }
        if (act == GemmActivation.Gelu) { lo = FastMath.Gelu(lo); hi = FastMath.Gelu(hi); }
        if (cols == 16) { lo.Store(c); hi.Store(c + 8); return; }
        float* tmp = stackalloc float[16];
        lo.Store(tmp); hi.Store(tmp + 8);
        for (int i = 0; i < cols; i++) c[i] = tmp[i];
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// fp32 multi-head self-attention over packed sequences: for every (sequence, head),
/// context = softmax(Q·Kᵀ/√d)·V over that sequence's own tokens. Sequences are stored without
/// padding, so no mask is needed: the keys of a sequence are exactly its real tokens, which is what
/// BERT's additive −∞ mask selects (exp underflows to 0 for the masked keys).
/// </summary>
/// <remarks>
/// One chunk of the thread pool = one (sequence, head). Kᵀ of the head is copied to a per-thread
/// scratch (d × Lp, Lp = L rounded up to 16, zero padded) so that a score row is a sum of d
/// broadcast-times-vector FMAs over contiguous keys; both Q·Kᵀ and P·V run four query rows at a
/// time (16 or 8 independent FMA chains, enough to hide the FMA latency), in 512-bit registers
/// where available. Every value is one FMA chain in a fixed order (score: over k; context: over
/// keys) whatever the vector width, the batch, the grouping of rows or the thread. Built with
/// <c>simd: false</c> the kernel is its own scalar reference twin (those chains as plain loops and
/// the softmax's scalar twin); the two agree bit for bit (tested).
/// </remarks>
internal sealed unsafe class AttentionKernel(KernelThreadPool? pool, bool simd = true) : IParallelJob
{
    const int Group = 4;                  // query rows per pass
    [ThreadStatic] static float[]? t_scratch;
    readonly bool _v512 = simd && Vector512.IsHardwareAccelerated, _v256 = simd && Vector256.IsHardwareAccelerated;

    float* _qkv, _context;
    int _q, _k, _v, _stride, _contextStride, _heads, _headDim;
    int* _starts, _lengths;
    float _scale;

    /// <summary>
    /// Writes the context of each head to <c>context[row, h·d … h·d + d)</c> (row stride
    /// <paramref name="contextStride"/>). Q, K and V of token row r, head h are read at
    /// <c>qkv[offset + r·stride + h·d]</c> with the given offsets.
    /// </summary>
    public void Run(float[] qkv, int qOffset, int kOffset, int vOffset, int stride, float[] context, int contextStride,
        int[] starts, int[] lengths, int sequences, int heads, int headDim)
    {
        fixed (float* pqkv = qkv) fixed (float* pctx = context) fixed (int* ps = starts) fixed (int* pl = lengths)
        {
            _qkv = pqkv; _context = pctx; _q = qOffset; _k = kOffset; _v = vOffset; _stride = stride;
            _contextStride = contextStride; _starts = ps; _lengths = pl; _heads = heads; _headDim = headDim;
            _scale = 1f / MathF.Sqrt(headDim);
            try
            {
                int chunks = sequences * heads;
                if (pool is null) for (int c = 0; c < chunks; c++) RunChunk(c);
                else pool.Run(this, chunks);
            }
            finally { _qkv = _context = null; _starts = _lengths = null; }
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void RunChunk(int chunk)
    {
        int b = chunk / _heads, h = chunk % _heads, len = _lengths[b], d = _headDim;
        if (len == 0) return;
        int lp = (len + 15) & ~15;
        int need = d * lp + (Group + 1) * lp + d;            // Kᵀ, the group's score rows + a discard row, a discard output row
        if (t_scratch is null || t_scratch.Length < need) t_scratch = GC.AllocateArray<float>(Math.Max(need, 4096), pinned: true);
        fixed (float* scratch = t_scratch)
        {
            float* kt = scratch, scores = scratch + d * lp, discard = scores + Group * lp, discardOut = discard + lp;
            nint row0 = (nint)_starts[b] * _stride + h * d;
            float* q = _qkv + _q + row0, k = _qkv + _k + row0, v = _qkv + _v + row0;
            Transpose(k, _stride, len, d, kt, lp);
            float* context = _context + (nint)_starts[b] * _contextStride + h * d;
            var qs = stackalloc float*[Group];
            var ss = stackalloc float*[Group];
            var os = stackalloc float*[Group];
            // Four query rows at a time; past the last row, the group repeats it and writes to discard rows.
            for (int i = 0; i < len; i += Group)
            {
                for (int r = 0; r < Group; r++)
                {
                    bool real = i + r < len;
                    qs[r] = q + (nint)Math.Min(i + r, len - 1) * _stride;
                    ss[r] = real ? scores + r * lp : discard;
                    os[r] = real ? context + (nint)(i + r) * _contextStride : discardOut;
                }
                Scores(qs, kt, d, lp, ss);
                for (int r = 0; r < Group; r++)
                {
                    if (i + r >= len) new Span<float>(discard, lp).Clear();
                    else if (simd) SoftmaxKernels.Row(ss[r], len, _scale);
                    else SoftmaxKernels.SoftmaxScalar(new Span<float>(ss[r], len), len, default, _scale);
                }
                WeightedSum(ss, len, v, _stride, d, os);
            }
        }
    }

    // kt[kk, j] = k[j, kk] for j < len, 0 for len ≤ j < lp: whole 16 × 16 blocks through registers
    // where possible (contiguous loads, contiguous stores), the rest element by element.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Transpose(float* k, int stride, int len, int d, float* kt, int lp)
    {
        bool blocks = _v512 && Avx512F.IsSupported;
        int full = blocks ? len & ~15 : 0, dBlocks = blocks ? d & ~15 : 0;
        for (int j0 = 0; j0 < full; j0 += 16)
            for (int c0 = 0; c0 < dBlocks; c0 += 16) Transpose16(k + (nint)j0 * stride + c0, stride, kt + (nint)c0 * lp + j0, lp);
        for (int kk = 0; kk < d; kk++)
        {
            float* dst = kt + kk * lp;
            for (int j = kk < dBlocks ? full : 0; j < len; j++) dst[j] = k[(nint)j * stride + kk];
            for (int j = len; j < lp; j++) dst[j] = 0f;
        }
    }

    // dst[c·ldd + r] = src[r·lds + c] for r, c < 16.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Transpose16(float* src, int lds, float* dst, int ldd)
    {
        // Three rounds of pairwise interleaving (rows 2^b apart), then a 4 × 4 shuffle of 128-bit lanes.
        var r = stackalloc Vector512<float>[16];
        for (int i = 0; i < 16; i++) r[i] = Vector512.Load(src + (nint)i * lds);
        // Round 1: 32-bit interleave of rows i, i+1.
        var t = stackalloc Vector512<float>[16];
        for (int i = 0; i < 16; i += 2)
        {
            t[i] = Avx512F.UnpackLow(r[i], r[i + 1]);
            t[i + 1] = Avx512F.UnpackHigh(r[i], r[i + 1]);
        }
        // Round 2: 64-bit interleave of pairs i, i+2.
        for (int i = 0; i < 16; i += 4)
            for (int h = 0; h < 2; h++)
            {
                r[i + h] = Avx512F.UnpackLow(t[i + h].AsDouble(), t[i + h + 2].AsDouble()).AsSingle();
                r[i + h + 2] = Avx512F.UnpackHigh(t[i + h].AsDouble(), t[i + h + 2].AsDouble()).AsSingle();
            }
        // Now 128-bit lane L of r[i + m] (block b = i/4, m = 0..3) holds rows 4b..4b+3 of column 4L + order[m].
        // Round 3/4: gather lane L of the four blocks into one vector per column.
        ReadOnlySpan<int> order = [0, 2, 1, 3];
        for (int m = 0; m < 4; m++)
        {
            var a = r[order[m]]; var b = r[4 + order[m]]; var c = r[8 + order[m]]; var e = r[12 + order[m]];
            var ab02 = Avx512F.Shuffle4x128(a, b, 0b10_00_10_00); var ab13 = Avx512F.Shuffle4x128(a, b, 0b11_01_11_01);
            var ce02 = Avx512F.Shuffle4x128(c, e, 0b10_00_10_00); var ce13 = Avx512F.Shuffle4x128(c, e, 0b11_01_11_01);
            Avx512F.Shuffle4x128(ab02, ce02, 0b10_00_10_00).Store(dst + (nint)(0 + m) * ldd);
            Avx512F.Shuffle4x128(ab13, ce13, 0b10_00_10_00).Store(dst + (nint)(4 + m) * ldd);
            Avx512F.Shuffle4x128(ab02, ce02, 0b11_01_11_01).Store(dst + (nint)(8 + m) * ldd);
            Avx512F.Shuffle4x128(ab13, ce13, 0b11_01_11_01).Store(dst + (nint)(12 + m) * ldd);
        }
    }

    // s_r[j] = Σ_k q_r[k]·kt[k, j] (one FMA chain over k), j < lp (a multiple of 16), r < 4.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void Scores(float** q, float* kt, int d, int lp, float** s)
    {
        int j0 = 0;
        if (_v512)
        {
            for (; j0 + 64 <= lp; j0 += 64) Scores512x4(q, kt, d, lp, s, j0);
            for (; j0 < lp; j0 += 16)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int kk = 0; kk < d; kk++)
                {
                    var k = Vector512.Load(kt + kk * lp + j0);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q[0][kk]), k, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q[1][kk]), k, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q[2][kk]), k, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q[3][kk]), k, a3);
                }
                a0.Store(s[0] + j0); a1.Store(s[1] + j0); a2.Store(s[2] + j0); a3.Store(s[3] + j0);
            }
            return;
        }
        if (_v256)
        {
            for (; j0 < lp; j0 += 8)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int kk = 0; kk < d; kk++)
                {
                    var k = Vector256.Load(kt + kk * lp + j0);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(q[0][kk]), k, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(q[1][kk]), k, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(q[2][kk]), k, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(q[3][kk]), k, a3);
                }
                a0.Store(s[0] + j0); a1.Store(s[1] + j0); a2.Store(s[2] + j0); a3.Store(s[3] + j0);
            }
            return;
        }
        for (int r = 0; r < Group; r++)
            for (int j = 0; j < lp; j++)
            {
                float a = 0f;
                for (int kk = 0; kk < d; kk++) a = MathF.FusedMultiplyAdd(q[r][kk], kt[kk * lp + j], a);
                s[r][j] = a;
            }
    }

    // 4 rows × 64 keys in 16 zmm accumulators.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Scores512x4(float** q, float* kt, int d, int lp, float** s, int j0)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, e0 = default, e1 = default, e2 = default, e3 = default;
        float* q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
        for (int kk = 0; kk < d; kk++)
        {
            float* r = kt + kk * lp + j0;
            var k0 = Vector512.Load(r); var k1 = Vector512.Load(r + 16); var k2 = Vector512.Load(r + 32); var k3 = Vector512.Load(r + 48);
            var x = Vector512.Create(q0[kk]);
            a0 = Vector512.FusedMultiplyAdd(x, k0, a0); a1 = Vector512.FusedMultiplyAdd(x, k1, a1);
            a2 = Vector512.FusedMultiplyAdd(x, k2, a2); a3 = Vector512.FusedMultiplyAdd(x, k3, a3);
            x = Vector512.Create(q1[kk]);
            b0 = Vector512.FusedMultiplyAdd(x, k0, b0); b1 = Vector512.FusedMultiplyAdd(x, k1, b1);
            b2 = Vector512.FusedMultiplyAdd(x, k2, b2); b3 = Vector512.FusedMultiplyAdd(x, k3, b3);
            x = Vector512.Create(q2[kk]);
            c0 = Vector512.FusedMultiplyAdd(x, k0, c0); c1 = Vector512.FusedMultiplyAdd(x, k1, c1);
            c2 = Vector512.FusedMultiplyAdd(x, k2, c2); c3 = Vector512.FusedMultiplyAdd(x, k3, c3);
            x = Vector512.Create(q3[kk]);
            e0 = Vector512.FusedMultiplyAdd(x, k0, e0); e1 = Vector512.FusedMultiplyAdd(x, k1, e1);
            e2 = Vector512.FusedMultiplyAdd(x, k2, e2); e3 = Vector512.FusedMultiplyAdd(x, k3, e3);
        }
        Store4(s[0] + j0, a0, a1, a2, a3); Store4(s[1] + j0, b0, b1, b2, b3);
        Store4(s[2] + j0, c0, c1, c2, c3); Store4(s[3] + j0, e0, e1, e2, e3);
    }

    // o_r[c] = Σ_j p_r[j]·v[j, c] (one FMA chain over the keys), c < d, r < 4.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void WeightedSum(float** p, int len, float* v, int stride, int d, float** o)
    {
        int c0 = 0;
        if (_v512)
        {
            for (; c0 + 32 <= d; c0 += 32) WeightedSum512x4(p, len, v, stride, o, c0);
            for (; c0 + 16 <= d; c0 += 16)
            {
                Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < len; j++)
                {
                    var x = Vector512.Load(v + (nint)j * stride + c0);
                    a0 = Vector512.FusedMultiplyAdd(Vector512.Create(p[0][j]), x, a0);
                    a1 = Vector512.FusedMultiplyAdd(Vector512.Create(p[1][j]), x, a1);
                    a2 = Vector512.FusedMultiplyAdd(Vector512.Create(p[2][j]), x, a2);
                    a3 = Vector512.FusedMultiplyAdd(Vector512.Create(p[3][j]), x, a3);
                }
                a0.Store(o[0] + c0); a1.Store(o[1] + c0); a2.Store(o[2] + c0); a3.Store(o[3] + c0);
            }
        }
        if (_v256)
            for (; c0 + 8 <= d; c0 += 8)
            {
                Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
                for (int j = 0; j < len; j++)
                {
                    var x = Vector256.Load(v + (nint)j * stride + c0);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[0][j]), x, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p[1][j]), x, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p[2][j]), x, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p[3][j]), x, a3);
                }
                a0.Store(o[0] + c0); a1.Store(o[1] + c0); a2.Store(o[2] + c0); a3.Store(o[3] + c0);
            }
        for (; c0 < d; c0++)
            for (int r = 0; r < Group; r++)
            {
                float a = 0f;
                for (int j = 0; j < len; j++) a = MathF.FusedMultiplyAdd(p[r][j], v[(nint)j * stride + c0], a);
                o[r][c0] = a;
            }
    }

    // 4 rows × 32 context lanes in 8 zmm accumulators.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightedSum512x4(float** p, int len, float* v, int stride, float** o, int c0)
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default, c0v = default, c1v = default, e0 = default, e1 = default;
        float* p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3];
        for (int j = 0; j < len; j++)
        {
            float* r = v + (nint)j * stride + c0;
            var v0 = Vector512.Load(r); var v1 = Vector512.Load(r + 16);
            var x = Vector512.Create(p0[j]);
            a0 = Vector512.FusedMultiplyAdd(x, v0, a0); a1 = Vector512.FusedMultiplyAdd(x, v1, a1);
            x = Vector512.Create(p1[j]);
            b0 = Vector512.FusedMultiplyAdd(x, v0, b0); b1 = Vector512.FusedMultiplyAdd(x, v1, b1);
            x = Vector512.Create(p2[j]);
            c0v = Vector512.FusedMultiplyAdd(x, v0, c0v); c1v = Vector512.FusedMultiplyAdd(x, v1, c1v);
            x = Vector512.Create(p3[j]);
            e0 = Vector512.FusedMultiplyAdd(x, v0, e0); e1 = Vector512.FusedMultiplyAdd(x, v1, e1);
        }
        a0.Store(o[0] + c0); a1.Store(o[0] + c0 + 16); b0.Store(o[1] + c0); b1.Store(o[1] + c0 + 16);
        c0v.Store(o[2] + c0); c1v.Store(o[2] + c0 + 16); e0.Store(o[3] + c0); e1.Store(o[3] + c0 + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store4(float* dst, Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        a.Store(dst); b.Store(dst + 16); c.Store(dst + 32); d.Store(dst + 48);
    }
}

using System.Runtime.Intrinsics;
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
/// scratch (d × Lp, Lp = L rounded up to 8, zero padded) so that a score row is a sum of d
/// broadcast-times-vector FMAs over contiguous keys; P·V accumulates up to 32 output lanes in
/// registers; both run two query rows at a time (8 independent FMA chains, enough to hide the FMA
/// latency). Every value is the same FMA chain whatever the batch, the pairing or the thread.
/// </remarks>
internal sealed unsafe class AttentionKernel(KernelThreadPool? pool) : IParallelJob
{
    [ThreadStatic] static float[]? t_scratch;

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
    public void RunChunk(int chunk)
    {
        int b = chunk / _heads, h = chunk % _heads, len = _lengths[b], d = _headDim;
        if (len == 0) return;
        int lp = (len + 7) & ~7;
        int need = d * lp + 3 * lp + d;                       // Kᵀ, two score rows + a discard row, a discard output row
        if (t_scratch is null || t_scratch.Length < need) t_scratch = GC.AllocateArray<float>(Math.Max(need, 4096), pinned: true);
        fixed (float* scratch = t_scratch)
        {
            float* kt = scratch, s0 = scratch + d * lp, s1 = s0 + lp, discard = s1 + lp, discardOut = discard + lp;
            nint row0 = (nint)_starts[b] * _stride + h * d;
            float* q = _qkv + _q + row0, k = _qkv + _k + row0, v = _qkv + _v + row0;
            for (int kk = 0; kk < d; kk++)
            {
                float* dst = kt + kk * lp;
                for (int j = 0; j < len; j++) dst[j] = k[(nint)j * _stride + kk];
                for (int j = len; j < lp; j++) dst[j] = 0f;
            }
            float* context = _context + (nint)_starts[b] * _contextStride + h * d;
            // Two query rows at a time (8 independent accumulator chains); an odd last row is paired
            // with itself and its twin results go to discard rows.
            for (int i = 0; i < len; i += 2)
            {
                bool pair = i + 1 < len;
                float* qa = q + (nint)i * _stride, qb = pair ? qa + _stride : qa;
                float* sb = pair ? s1 : discard;
                Scores(qa, qb, kt, d, lp, s0, sb);
                SoftmaxKernels.Softmax(new Span<float>(s0, len), len, default, _scale);
                if (pair) SoftmaxKernels.Softmax(new Span<float>(s1, len), len, default, _scale);
                else new Span<float>(discard, lp).Clear();
                float* oa = context + (nint)i * _contextStride;
                WeightedSum(s0, sb, len, v, _stride, d, oa, pair ? oa + _contextStride : discardOut);
            }
        }
    }

    // sa[j] = Σ_k qa[k]·kt[k, j] and sb likewise for qb, j < lp (a multiple of 8): 2 rows × 32 keys per pass.
    static void Scores(float* qa, float* qb, float* kt, int d, int lp, float* sa, float* sb)
    {
        int j0 = 0;
        for (; j0 + 32 <= lp; j0 += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int kk = 0; kk < d; kk++)
            {
                var x = Vector256.Create(qa[kk]);
                var y = Vector256.Create(qb[kk]);
                float* r = kt + kk * lp + j0;
                var k0 = Vector256.Load(r); var k1 = Vector256.Load(r + 8); var k2 = Vector256.Load(r + 16); var k3 = Vector256.Load(r + 24);
                a0 = Vector256.FusedMultiplyAdd(x, k0, a0); b0 = Vector256.FusedMultiplyAdd(y, k0, b0);
                a1 = Vector256.FusedMultiplyAdd(x, k1, a1); b1 = Vector256.FusedMultiplyAdd(y, k1, b1);
                a2 = Vector256.FusedMultiplyAdd(x, k2, a2); b2 = Vector256.FusedMultiplyAdd(y, k2, b2);
                a3 = Vector256.FusedMultiplyAdd(x, k3, a3); b3 = Vector256.FusedMultiplyAdd(y, k3, b3);
            }
            a0.Store(sa + j0); a1.Store(sa + j0 + 8); a2.Store(sa + j0 + 16); a3.Store(sa + j0 + 24);
            b0.Store(sb + j0); b1.Store(sb + j0 + 8); b2.Store(sb + j0 + 16); b3.Store(sb + j0 + 24);
        }
        for (; j0 < lp; j0 += 8)
        {
            Vector256<float> a = default, b = default;
            for (int kk = 0; kk < d; kk++)
            {
                var k0 = Vector256.Load(kt + kk * lp + j0);
                a = Vector256.FusedMultiplyAdd(Vector256.Create(qa[kk]), k0, a);
                b = Vector256.FusedMultiplyAdd(Vector256.Create(qb[kk]), k0, b);
            }
            a.Store(sa + j0); b.Store(sb + j0);
        }
    }

    // oa[c] = Σ_j pa[j]·v[j, c] and ob likewise for pb, c < d: 2 rows × 32 lanes in registers, then 8, then scalars.
    static void WeightedSum(float* pa, float* pb, int len, float* v, int stride, int d, float* oa, float* ob)
    {
        int c0 = 0;
        for (; c0 + 32 <= d; c0 += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
            for (int j = 0; j < len; j++)
            {
                var x = Vector256.Create(pa[j]);
                var y = Vector256.Create(pb[j]);
                float* r = v + (nint)j * stride + c0;
                var v0 = Vector256.Load(r); var v1 = Vector256.Load(r + 8); var v2 = Vector256.Load(r + 16); var v3 = Vector256.Load(r + 24);
                a0 = Vector256.FusedMultiplyAdd(x, v0, a0); b0 = Vector256.FusedMultiplyAdd(y, v0, b0);
                a1 = Vector256.FusedMultiplyAdd(x, v1, a1); b1 = Vector256.FusedMultiplyAdd(y, v1, b1);
                a2 = Vector256.FusedMultiplyAdd(x, v2, a2); b2 = Vector256.FusedMultiplyAdd(y, v2, b2);
                a3 = Vector256.FusedMultiplyAdd(x, v3, a3); b3 = Vector256.FusedMultiplyAdd(y, v3, b3);
            }
            a0.Store(oa + c0); a1.Store(oa + c0 + 8); a2.Store(oa + c0 + 16); a3.Store(oa + c0 + 24);
            b0.Store(ob + c0); b1.Store(ob + c0 + 8); b2.Store(ob + c0 + 16); b3.Store(ob + c0 + 24);
        }
        for (; c0 + 8 <= d; c0 += 8)
        {
            Vector256<float> a = default, b = default;
            for (int j = 0; j < len; j++)
            {
                var v0 = Vector256.Load(v + (nint)j * stride + c0);
                a = Vector256.FusedMultiplyAdd(Vector256.Create(pa[j]), v0, a);
                b = Vector256.FusedMultiplyAdd(Vector256.Create(pb[j]), v0, b);
            }
            a.Store(oa + c0); b.Store(ob + c0);
        }
        for (; c0 < d; c0++)
        {
            float a = 0f, b = 0f;
            for (int j = 0; j < len; j++)
            {
                a = MathF.FusedMultiplyAdd(pa[j], v[(nint)j * stride + c0], a);
                b = MathF.FusedMultiplyAdd(pb[j], v[(nint)j * stride + c0], b);
            }
            oa[c0] = a; ob[c0] = b;
        }
    }
}

using System.Runtime.Intrinsics;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime;

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
/// registers. Every value is the same FMA chain whatever the batch or thread.
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
        int need = d * lp + lp;
        if (t_scratch is null || t_scratch.Length < need) t_scratch = GC.AllocateArray<float>(Math.Max(need, 4096), pinned: true);
        fixed (float* scratch = t_scratch)
        {
            float* kt = scratch, scores = scratch + d * lp;
            nint row0 = (nint)_starts[b] * _stride + h * d;
            float* q = _qkv + _q + row0, k = _qkv + _k + row0, v = _qkv + _v + row0;
            for (int kk = 0; kk < d; kk++)
            {
                float* dst = kt + kk * lp;
                for (int j = 0; j < len; j++) dst[j] = k[(nint)j * _stride + kk];
                for (int j = len; j < lp; j++) dst[j] = 0f;
            }
            for (int i = 0; i < len; i++)
            {
                Scores(q + (nint)i * _stride, kt, d, lp, scores);
                SoftmaxKernels.Softmax(new Span<float>(scores, len), len, default, _scale);
                WeightedSum(scores, len, v, _stride, d, _context + (nint)(_starts[b] + i) * _contextStride + h * d);
            }
        }
    }

    // scores[j] = Σ_k q[k]·kt[k, j] for j < lp (a multiple of 8), 32 keys at a time.
    static void Scores(float* q, float* kt, int d, int lp, float* scores)
    {
        int j0 = 0;
        for (; j0 + 32 <= lp; j0 += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int kk = 0; kk < d; kk++)
            {
                var x = Vector256.Create(q[kk]);
                float* r = kt + kk * lp + j0;
                a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r), a0);
                a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 24), a3);
            }
            a0.Store(scores + j0); a1.Store(scores + j0 + 8); a2.Store(scores + j0 + 16); a3.Store(scores + j0 + 24);
        }
        for (; j0 < lp; j0 += 8)
        {
            var a = Vector256<float>.Zero;
            for (int kk = 0; kk < d; kk++) a = Vector256.FusedMultiplyAdd(Vector256.Create(q[kk]), Vector256.Load(kt + kk * lp + j0), a);
            a.Store(scores + j0);
        }
    }

    // out[c] = Σ_j p[j]·v[j, c] for c < d: 32 lanes at a time in registers, then 8, then scalars.
    static void WeightedSum(float* p, int len, float* v, int stride, int d, float* output)
    {
        int c0 = 0;
        for (; c0 + 32 <= d; c0 += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < len; j++)
            {
                var x = Vector256.Create(p[j]);
                float* r = v + (nint)j * stride + c0;
                a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r), a0);
                a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 24), a3);
            }
            a0.Store(output + c0); a1.Store(output + c0 + 8); a2.Store(output + c0 + 16); a3.Store(output + c0 + 24);
        }
        for (; c0 + 8 <= d; c0 += 8)
        {
            var a = Vector256<float>.Zero;
            for (int j = 0; j < len; j++) a = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(v + (nint)j * stride + c0), a);
            a.Store(output + c0);
        }
        for (; c0 < d; c0++)
        {
            float a = 0f;
            for (int j = 0; j < len; j++) a = MathF.FusedMultiplyAdd(p[j], v[(nint)j * stride + c0], a);
            output[c0] = a;
        }
    }
}

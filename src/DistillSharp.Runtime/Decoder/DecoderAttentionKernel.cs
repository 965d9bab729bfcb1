using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// fp32 causal grouped-query attention of the new tokens of a call against the KV cache: for every
/// (sequence, query head) and every new token at position p, context = softmax(q·Kᵀ/√d)·V over
/// cached positions [0, p] (or the last <c>window</c> of them with a sliding window). Query head h
/// reads kv head h / (heads / kvHeads), as HF's repeat_kv. The cache already holds the new tokens'
/// K and V (<see cref="DecoderRowKernels.Rotary"/> writes them first).
/// </summary>
/// <remarks>
/// One chunk of the thread pool = one (sequence, head); the scores of a query go to that chunk's
/// own row of a session scratch, so nothing is allocated. Each score is the same dot product (8-lane
/// FMA over d, then a lane sum) whatever the batch, the number of new tokens or the thread, so a
/// decode step computes bit for bit what a full recompute computes for that position. Built with
/// <c>simd: false</c> it is its own scalar reference twin (the dot products in eight lanes combined
/// as <see cref="LaneOrder"/>, the softmax's scalar twin, the weighted sums in the same FMA chains),
/// equal to the SIMD form bit for bit (tested).
/// </remarks>
internal sealed unsafe class DecoderAttentionKernel(KernelThreadPool? pool, bool simd = true) : IParallelJob
{
    readonly bool _vec = simd && Vector256.IsHardwareAccelerated;
    float* _q, _keys, _values, _context, _scores;
    int* _starts, _counts, _past;
    int _heads, _kvHeads, _headDim, _capacity, _qStride, _window;
    float _scale;

    /// <summary>
    /// Q of token row r, head h is <c>q[r·qStride + h·d]</c>; context goes to <c>context[r·heads·d + h·d]</c>.
    /// Sequence b's new tokens are rows <c>starts[b] … starts[b] + counts[b]</c> at positions
    /// <c>past[b] …</c>. <paramref name="scores"/> holds sequences × heads × capacity floats.
    /// </summary>
    public void Run(float[] q, int qStride, float[] keys, float[] values, int capacity, float[] context, float[] scores,
        int[] starts, int[] counts, int[] past, int sequences, int heads, int kvHeads, int headDim, int? window)
    {
        fixed (float* pq = q) fixed (float* pk = keys) fixed (float* pv = values) fixed (float* pc = context) fixed (float* ps = scores)
        fixed (int* pst = starts) fixed (int* pco = counts) fixed (int* ppa = past)
        {
            _q = pq; _keys = pk; _values = pv; _context = pc; _scores = ps; _starts = pst; _counts = pco; _past = ppa;
            _heads = heads; _kvHeads = kvHeads; _headDim = headDim; _capacity = capacity; _qStride = qStride;
            _window = window ?? int.MaxValue;
            _scale = 1f / MathF.Sqrt(headDim);
            try
            {
                int chunks = sequences * heads;
                if (pool is null) for (int c = 0; c < chunks; c++) RunChunk(c);
                else pool.Run(this, chunks);
            }
            finally { _q = _keys = _values = _context = _scores = null; _starts = _counts = _past = null; }
        }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code in short benchmarks
    public void RunChunk(int chunk)
    {
        int b = chunk / _heads, h = chunk % _heads, d = _headDim, g = h / (_heads / _kvHeads);
        float* k = _keys + ((nint)b * _kvHeads + g) * _capacity * d;
        float* v = _values + ((nint)b * _kvHeads + g) * _capacity * d;
        float* s = _scores + (nint)chunk * _capacity;
        int contextStride = _heads * d;
        for (int i = 0; i < _counts[b]; i++)
        {
            int row = _starts[b] + i, pos = _past[b] + i;
            int lo = _window == int.MaxValue ? 0 : Math.Max(0, pos - _window + 1), n = pos - lo + 1;
            float* q = _q + (nint)row * _qStride + h * d;
            for (int j = 0; j < n; j++) s[j] = Dot(q, k + (nint)(lo + j) * d, d, _vec);
            if (_vec) SoftmaxKernels.Row(s, n, _scale);
            else SoftmaxKernels.SoftmaxScalar(new Span<float>(s, n), n, default, _scale);
            WeightedSum(s, n, v + (nint)lo * d, d, _context + (nint)row * contextStride + h * d, _vec);
        }
    }

    // Σ a·b as fused multiply-adds into eight lanes over the whole 8-blocks (combined as LaneOrder), then the tail.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static float Dot(float* a, float* b, int d, bool vec)
    {
        int i = 0;
        float sum = 0f;
        if (d >= 8 && vec)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= d - 8; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc);
            sum = LaneOrder.Sum(acc);
        }
        else if (d >= 8)
        {
            Span<float> lanes = stackalloc float[LaneOrder.Lanes];
            lanes.Clear();
            for (; i <= d - 8; i += 8)
                for (int j = 0; j < 8; j++) lanes[j] = MathF.FusedMultiplyAdd(a[i + j], b[i + j], lanes[j]);
            sum = LaneOrder.Sum(lanes);
        }
        for (; i < d; i++) sum = MathF.FusedMultiplyAdd(a[i], b[i], sum);
        return sum;
    }

    // o[c] = Σ_j p[j]·v[j, c]: one FMA chain over j per column, in every form.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void WeightedSum(float* p, int n, float* v, int d, float* o, bool vec)
    {
        int c0 = 0;
        for (; vec && c0 + 32 <= d; c0 += 32)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int j = 0; j < n; j++)
            {
                var x = Vector256.Create(p[j]);
                float* r = v + (nint)j * d + c0;
                a0 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r), a0);
                a1 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(x, Vector256.Load(r + 24), a3);
            }
            a0.Store(o + c0); a1.Store(o + c0 + 8); a2.Store(o + c0 + 16); a3.Store(o + c0 + 24);
        }
        for (; vec && c0 + 8 <= d; c0 += 8)
        {
            var a = Vector256<float>.Zero;
            for (int j = 0; j < n; j++) a = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(v + (nint)j * d + c0), a);
            a.Store(o + c0);
        }
        for (; c0 < d; c0++)
        {
            float a = 0f;
            for (int j = 0; j < n; j++) a = MathF.FusedMultiplyAdd(p[j], v[(nint)j * d + c0], a);
            o[c0] = a;
        }
    }
}

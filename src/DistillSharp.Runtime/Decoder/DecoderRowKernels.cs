using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// Row-wise fp32 passes of the decoder spread over the kernel thread pool in chunks of token rows:
/// residual add + RMSNorm (or LayerNorm), rotary positions (with the K/V cache write) and the gated
/// feed-forward product. One call at a time; nothing is allocated per call.
/// </summary>
/// <remarks>
/// Built with <c>simd: false</c> it is its own scalar reference twin: plain loops that perform the
/// same IEEE operations in the same order as the Vector256 code (RMSNorm's sum of squares in eight
/// lanes combined as <see cref="LaneOrder"/>, no fused multiply-add where the vector code has none),
/// so the two agree bit for bit (tested). Without hardware SIMD the scalar form runs.
/// </remarks>
internal sealed unsafe class DecoderRowKernels(KernelThreadPool? pool, bool simd = true) : IParallelJob
{
    readonly bool _vec = simd && Vector256.IsHardwareAccelerated;
    const int ChunkRows = 8;
    enum Op { RmsNorm, Rotary, Gate }

    Op _op;
    int _rows, _cols;
    float* _x, _add, _out, _weight, _bias, _cos, _sin;
    bool _rotate;
    float _eps;
    Activation _act;
    // Rotary: qkv rows of width (heads + 2·kvHeads)·d; cache rows [b][g][pos][d].
    int _heads, _kvHeads, _headDim, _capacity;
    int* _seq, _pos;
    float* _keys, _values;

    /// <summary>
    /// x ← x + add (when <paramref name="add"/> is not null), then out ← x / √(mean(x²) + ε) · weight
    /// (RMSNorm), or LayerNorm(x)·weight + bias when <paramref name="bias"/> is given, for
    /// <paramref name="rows"/> rows of weight.Length values.
    /// </summary>
    public void ResidualNorm(float[] x, float[]? add, int rows, float[] weight, float[]? bias, float eps, float[] output)
    {
        fixed (float* px = x) fixed (float* pa = add) fixed (float* pw = weight) fixed (float* pb = bias) fixed (float* po = output)
        {
            _op = Op.RmsNorm; _x = px; _add = add is null ? null : pa; _rows = rows; _cols = weight.Length;
            _weight = pw; _bias = bias is null ? null : pb; _eps = eps; _out = po;
            Run();
        }
    }

    /// <summary>
    /// Rotates Q and K of each token row of <paramref name="qkv"/> (rotate_half layout, angles from
    /// <paramref name="cos"/>/<paramref name="sin"/>, d/2 per row) and writes its K and V to the
    /// cache of its sequence at its position. Without <paramref name="rotate"/> (GPT-2) only the cache write.
    /// </summary>
    public void Rotary(float[] qkv, int rows, float[] cos, float[] sin, int[] seq, int[] pos, int heads, int kvHeads, int headDim,
        float[] keys, float[] values, int capacity, bool rotate = true)
    {
        fixed (float* pq = qkv) fixed (float* pc = cos) fixed (float* ps = sin) fixed (int* pseq = seq) fixed (int* ppos = pos)
        fixed (float* pk = keys) fixed (float* pv = values)
        {
            _op = Op.Rotary; _x = pq; _rows = rows; _cos = pc; _sin = ps; _seq = pseq; _pos = ppos;
            _heads = heads; _kvHeads = kvHeads; _headDim = headDim; _keys = pk; _values = pv; _capacity = capacity; _rotate = rotate;
            Run();
        }
    }

    /// <summary>out[r, j] ← act(gu[r, j]) · gu[r, F + j] for rows of [gate (F) | up (F)].</summary>
    public void Gate(float[] gateUp, int rows, int ffn, Activation act, float[] output)
    {
        fixed (float* pg = gateUp) fixed (float* po = output)
        {
            _op = Op.Gate; _x = pg; _rows = rows; _cols = ffn; _act = act; _out = po;
            Run();
        }
    }

    void Run()
    {
        int chunks = (_rows + ChunkRows - 1) / ChunkRows;
        try
        {
            if (pool is null) for (int c = 0; c < chunks; c++) RunChunk(c);
            else pool.Run(this, chunks);
        }
        finally { _x = _add = _out = _weight = _bias = _cos = _sin = _keys = _values = null; _seq = _pos = null; }
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: no tier-0 code in short benchmarks
    public void RunChunk(int chunk)
    {
        int r0 = chunk * ChunkRows, r1 = Math.Min(_rows, r0 + ChunkRows);
        for (int r = r0; r < r1; r++)
            switch (_op)
            {
                case Op.RmsNorm: RmsNormRow(r); break;
                case Op.Rotary: RotaryRow(r); break;
                default: GateRow(r); break;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void RmsNormRow(int r)
    {
        int n = _cols, i = 0;
        float* x = _x + (nint)r * n, o = _out + (nint)r * n;
        if (_add != null)
        {
            float* a = _add + (nint)r * n;
            if (_vec) for (; i <= n - 8; i += 8) (Vector256.Load(x + i) + Vector256.Load(a + i)).Store(x + i);
            for (; i < n; i++) x[i] += a[i];
        }
        if (_bias != null)
        {
            ReadOnlySpan<float> row = new(x, n), w = new(_weight, n), b = new(_bias, n);
            Span<float> y = new(o, n);
            if (_vec) LayerNormKernels.LayerNorm(row, w, b, _eps, y);
            else LayerNormKernels.LayerNormScalar(row, default, w, b, _eps, y, gelu: false);
            return;
        }
        float inv = 1f / MathF.Sqrt(SumOfSquares(x, n) / n + _eps);
        i = 0;
        if (_vec)
        {
            var vinv = Vector256.Create(inv);
            for (; i <= n - 8; i += 8) (Vector256.Load(x + i) * vinv * Vector256.Load(_weight + i)).Store(o + i);
        }
        for (; i < n; i++) o[i] = x[i] * inv * _weight[i];
    }

    // Σ x² in LaneOrder: eight lanes of x·x added (no FMA) over the whole 8-blocks, then the tail.
    float SumOfSquares(float* x, int n)
    {
        int i = 0;
        float sum = 0f;
        if (_vec)
        {
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) { var v = Vector256.Load(x + i); acc += v * v; }
            sum = LaneOrder.Sum(acc);
        }
        else
        {
            Span<float> lanes = stackalloc float[LaneOrder.Lanes];
            lanes.Clear();
            for (; i <= n - 8; i += 8)
                for (int j = 0; j < 8; j++) lanes[j] += x[i + j] * x[i + j];
            sum = LaneOrder.Sum(lanes);
        }
        for (; i < n; i++) sum += x[i] * x[i];
        return sum;
    }

    // out_i = x_i·cos_i − x_{i+h}·sin_i and out_{i+h} = x_{i+h}·cos_i + x_i·sin_i (h = d/2): HF's
    // x·cos + rotate_half(x)·sin with cos/sin repeated over both halves.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void RotaryRow(int r)
    {
        int d = _headDim, half = d / 2, width = (_heads + 2 * _kvHeads) * d;
        float* row = _x + (nint)r * width, c = _cos + (nint)r * half, s = _sin + (nint)r * half;
        if (_rotate) for (int h = 0; h < _heads + _kvHeads; h++) Rotate(row + h * d, c, s, half, _vec);
        nint cacheRow = ((nint)_seq[r] * _kvHeads * _capacity + _pos[r]) * d;
        for (int g = 0; g < _kvHeads; g++)
        {
            nint at = cacheRow + (nint)g * _capacity * d;
            new ReadOnlySpan<float>(row + (_heads + g) * d, d).CopyTo(new Span<float>(_keys + at, d));
            new ReadOnlySpan<float>(row + (_heads + _kvHeads + g) * d, d).CopyTo(new Span<float>(_values + at, d));
        }
    }

    // Products first, then one subtraction / addition each (no FMA), in both forms.
    static void Rotate(float* x, float* cos, float* sin, int half, bool vec)
    {
        int i = 0;
        if (vec)
            for (; i <= half - 8; i += 8)
            {
                var a = Vector256.Load(x + i);
                var b = Vector256.Load(x + i + half);
                var co = Vector256.Load(cos + i);
                var si = Vector256.Load(sin + i);
                (a * co - b * si).Store(x + i);
                (b * co + a * si).Store(x + i + half);
            }
        for (; i < half; i++)
        {
            float a = x[i], b = x[i + half];
            float ac = a * cos[i], bs = b * sin[i], bc = b * cos[i], as_ = a * sin[i];
            x[i] = ac - bs;
            x[i + half] = bc + as_;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void GateRow(int r)
    {
        int f = _cols, i = 0;
        float* g = _x + (nint)r * 2 * f, u = g + f, o = _out + (nint)r * f;
        if (_vec && _act == Activation.Silu)
            for (; i <= f - 8; i += 8)
            {
                var x = Vector256.Load(g + i);
                (x / (Vector256<float>.One + FastMath.Exp(-x)) * Vector256.Load(u + i)).Store(o + i);
            }
        else if (_vec && _act == Activation.Gelu)
            for (; i <= f - 8; i += 8) (FastMath.Gelu(Vector256.Load(g + i)) * Vector256.Load(u + i)).Store(o + i);
        for (; i < f; i++) o[i] = Activate(g[i], _act) * u[i];
    }

    static float Activate(float x, Activation act) => act switch
    {
        Activation.Silu => x / (1f + FastMath.Exp(-x)),
        Activation.Gelu => FastMath.Gelu(x),
        Activation.GeluTanh => 0.5f * x * (1f + MathF.Tanh(0.7978845608028654f * (x + 0.044715f * x * x * x))),
        Activation.Relu => MathF.Max(x, 0f),
        _ => x,                                  // None: a bilinear gate
    };
}


namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// Row-wise fp32 passes of the encoder spread over the kernel thread pool in chunks of rows:
/// embedding lookup + LayerNorm, residual + LayerNorm (fused, or add then normalize), and bias +
/// activation passes for the unfused path. One call at a time; nothing is allocated per call.
/// </summary>
internal sealed unsafe class RowKernels(KernelThreadPool? pool) : IParallelJob
{
    const int ChunkRows = 16;
    enum Op { Embed, ResidualLayerNorm, BiasActivation }

    Op _op;
    int _rows, _cols;
    float* _x, _residual, _gamma, _beta, _out, _bias;
    float _eps;
    bool _fuse;
    Activation _act;
    int* _ids, _positions, _types;
    float* _word, _position, _type, _wordScales;
    sbyte* _wordValues;

    /// <summary>
    /// out[r] ← LayerNorm(word[ids[r]] + type[types[r]] + position[positions[r]]) (the sum in the
    /// order of BertEmbeddings: word + type, then + position).
    /// </summary>
    public void Embed(int* ids, int* positions, int* types, int rows, float[] word, float[] position, float[] type,
        float[] gamma, float[] beta, float eps, float[] output)
    {
        fixed (float* pw = word) fixed (float* pp = position) fixed (float* pt = type) fixed (float* pg = gamma) fixed (float* pb = beta)
        fixed (float* po = output)
        {
            _op = Op.Embed; _ids = ids; _positions = positions; _types = types; _rows = rows; _cols = gamma.Length;
            _word = pw; _position = pp; _type = pt; _gamma = pg; _beta = pb; _eps = eps; _out = po;
            Run();
        }
    }

    /// <summary>
    /// As the float <see cref="Embed(int*, int*, int*, int, float[], float[], float[], float[], float[], float, float[])"/>
    /// with an int8 word table: the word row is <c>wordValues[id, c] · wordScales[id]</c> (rounded to
    /// float before adding the type row), exactly the dequantized table's row.
    /// </summary>
    public void Embed(int* ids, int* positions, int* types, int rows, sbyte[] wordValues, float[] wordScales, float[] position,
        float[] type, float[] gamma, float[] beta, float eps, float[] output)
    {
        fixed (sbyte* pq = wordValues) fixed (float* ps = wordScales)
        {
            _wordValues = pq; _wordScales = ps;
            try
            {
                Embed(ids, positions, types, rows, [], position, type, gamma, beta, eps, output);
            }
            finally
            {
                _wordValues = null; _wordScales = null;
            }
        }
    }

    /// <summary>out ← LayerNorm(x + residual) row by row; fused = one kernel, else add then normalize.</summary>
    public void ResidualLayerNorm(float[] x, float[] residual, int rows, float[] gamma, float[] beta, float eps, float[] output, bool fuse)
    {
        fixed (float* px = x) fixed (float* pr = residual) fixed (float* pg = gamma) fixed (float* pb = beta) fixed (float* po = output)
        {
            _op = Op.ResidualLayerNorm; _x = px; _residual = pr; _rows = rows; _cols = gamma.Length;
            _gamma = pg; _beta = pb; _eps = eps; _out = po; _fuse = fuse;
            Run();
        }
    }

    /// <summary>y ← act(y + bias) as separate passes (bias may be empty: activation only).</summary>
    public void BiasActivation(Span<float> y, int rows, ReadOnlySpan<float> bias, Activation act)
    {
        if (rows == 0) return;
        fixed (float* py = y) fixed (float* pb = bias)
        {
            _op = Op.BiasActivation; _out = py; _rows = rows; _cols = y.Length / rows; _bias = bias.IsEmpty ? null : pb; _act = act;
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
        finally
        {
            _x = _residual = _out = _bias = null;
        }
    }

    /// <inheritdoc/>
    public void RunChunk(int chunk)
    {
        int r0 = chunk * ChunkRows, r1 = Math.Min(_rows, r0 + ChunkRows), n = (r1 - r0) * _cols;
        var gamma = new ReadOnlySpan<float>(_gamma, _cols);
        var beta = new ReadOnlySpan<float>(_beta, _cols);
        var output = new Span<float>(_out + (nint)r0 * _cols, n);
        switch (_op)
        {
            case Op.Embed:
                for (int r = r0; r < r1; r++)
                {
                    var row = new Span<float>(_out + (nint)r * _cols, _cols);
                    var typeRow = new ReadOnlySpan<float>(_type + (nint)_types[r] * _cols, _cols);
                    if (_wordValues != null) DequantizeAdd(new ReadOnlySpan<sbyte>(_wordValues + (nint)_ids[r] * _cols, _cols), _wordScales[_ids[r]], typeRow, row);
                    else ElementwiseKernels.ResidualAdd(new ReadOnlySpan<float>(_word + (nint)_ids[r] * _cols, _cols), typeRow, row);
                    LayerNormKernels.ResidualLayerNorm(row, new ReadOnlySpan<float>(_position + (nint)_positions[r] * _cols, _cols),
                        gamma, beta, _eps, row);
                }
                break;
            case Op.ResidualLayerNorm:
                var x = new ReadOnlySpan<float>(_x + (nint)r0 * _cols, n);
                var residual = new ReadOnlySpan<float>(_residual + (nint)r0 * _cols, n);
                if (_fuse) LayerNormKernels.ResidualLayerNorm(x, residual, gamma, beta, _eps, output);
                else
                {
                    ElementwiseKernels.ResidualAdd(x, residual, output);
                    LayerNormKernels.LayerNorm(output, gamma, beta, _eps, output);
                }
                break;
            default:
                if (_bias != null) ElementwiseKernels.AddBias(output, new ReadOnlySpan<float>(_bias, _cols));
                Activate(output, _act);
                break;
        }
    }

    // out[c] ← (q[c] · scale) + add[c]; the product is rounded to float first (no FMA), so the result
    // equals adding the dequantized row.
    static void DequantizeAdd(ReadOnlySpan<sbyte> q, float scale, ReadOnlySpan<float> add, Span<float> output)
    {
        for (int c = 0; c < output.Length; c++)
        {
            float w = q[c] * scale;
            output[c] = w + add[c];
        }
    }

    static void Activate(Span<float> y, Activation act)
    {
        switch (act)
        {
            case Activation.Gelu: ElementwiseKernels.Gelu(y); break;
            case Activation.Relu:
                foreach (ref float v in y) v = MathF.Max(v, 0f);
                break;
            case Activation.GeluTanh:
                const float c = 0.7978845608028654f; // √(2/π)
                foreach (ref float v in y) v = 0.5f * v * (1f + MathF.Tanh(c * (v + 0.044715f * v * v * v)));
                break;
            case Activation.Silu:
                foreach (ref float v in y) v /= 1f + FastMath.Exp(-v);
                break;
        }
    }
}

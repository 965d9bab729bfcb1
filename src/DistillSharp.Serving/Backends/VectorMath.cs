using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;
namespace DistillSharp.Serving.Backends;

/// <summary>
/// Pooling and L2 normalisation with the arithmetic of the INT8 encoder (float sums in token
/// order, one multiply by 1/len; norm summed in double, one float scale), so a served vector equals
/// the runtime's own bit for bit.
/// </summary>
public static class VectorMath
{
    /// <summary>
    /// Pools rows of <paramref name="hidden"/>, (batch, length, width) row-major: sequence b has its
    /// tokens at positions 0 … lengths[b] − 1.
    /// </summary>
    public static float[][] Pool(ReadOnlySpan<float> hidden, int length, int width, IReadOnlyList<int> lengths, Pooling pooling)
    {
        var result = new float[lengths.Count][];
        for (int b = 0; b < lengths.Count; b++)
        {
            var v = result[b] = new float[width];
            int n = lengths[b];
            if (n <= 0) continue;
            var seq = hidden.Slice(b * length * width, length * width);
            if (pooling == Pooling.Cls)
            {
                seq[..width].CopyTo(v);
                continue;
            }
            for (int t = 0; t < n; t++)
            {
                var row = seq.Slice(t * width, width);
                for (int j = 0; j < width; j++) v[j] += row[j];
            }
            float inv = 1f / n;
            for (int j = 0; j < width; j++) v[j] *= inv;
        }
        return result;
    }

    /// <summary>Scales <paramref name="v"/> to unit L2 norm in place (a zero vector stays zero).</summary>
    public static void Normalize(Span<float> v)
    {
        double norm = 0;
        foreach (float x in v) norm += (double)x * x;
        float scale = (float)(1.0 / Math.Max(Math.Sqrt(norm), 1e-12));
        for (int j = 0; j < v.Length; j++) v[j] *= scale;
    }

    /// <summary>Softmax in double precision, returned as floats.</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += p[i] = Math.Exp(logits[i] - max);
        var result = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = (float)(p[i] / sum);
        return result;
    }
}

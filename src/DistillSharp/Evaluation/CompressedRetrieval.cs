using System.Numerics;

namespace DistillSharp.Evaluation;

/// <summary>
/// Retrieval over compressed embeddings, as a vector index stores them (sentence-transformers'
/// embedding quantization, Shakir, Aarsen &amp; Lee 2024): every vector is L2-normalised first; then
/// <list type="bullet">
/// <item><b>int8</b>: per dimension d a symmetric scale s_d = max|x_d| / 127 from calibration vectors,
/// code = clamp(round(x_d / s_d), −127, 127); score = the integer dot product of the codes;</item>
/// <item><b>binary</b>: one bit per dimension, x_d &gt; 0; score = −Hamming distance (= the ±1 dot product up to a constant);</item>
/// <item><b>calibrated binary</b>: one bit per dimension, x_d &gt; t_d with t_d the calibration vectors' median of
/// dimension d (so every bit splits the data in half, where a fixed 0 wastes the bits of dimensions whose values share
/// a sign); the stored bit stands for the calibration mean of its side (the 1-bit quantizer's centroid), which only
/// rescoring reads; the index keeps three floats per dimension once, not per vector;</item>
/// <item><b>rescoring</b> (optional): the top <c>k</c> candidates by the compressed score are re-ranked by
/// the float query · the candidate as stored (dequantized int8 codes or ±1 bits), so the index
/// never needs float candidates.</item>
/// </list>
/// Ranks are pessimistic as in <see cref="RetrievalMetrics"/>: ties count against the correct candidate.
/// A correct candidate outside the shortlist keeps its compressed rank (it is > k).
/// </summary>
public static class CompressedRetrieval
{
    /// <summary>Per-dimension symmetric int8 scales max|x_d| / 127 of normalised calibration vectors.</summary>
    public static float[] Int8Scales(IReadOnlyList<float[]> calibration)
    {
        if (calibration.Count == 0) throw new DistillSharpException("int8 embedding calibration needs at least one vector");
        int dims = calibration[0].Length;
        var max = new float[dims];
        foreach (var v in calibration.Select(Encoder.Embeddings.Normalize))
            for (int d = 0; d < dims; d++) max[d] = MathF.Max(max[d], MathF.Abs(v[d]));
        return max.Select(m => m > 0 ? m / 127f : 1f).ToArray();
    }

    /// <summary>Int8 codes of normalised vectors (as floats, exact: |code| ≤ 127).</summary>
    public static float[][] Int8Codes(IReadOnlyList<float[]> vectors, float[] scales) =>
        vectors.Select(Encoder.Embeddings.Normalize).Select(v =>
            v.Select((x, d) => Math.Clamp(MathF.Round(x / scales[d], MidpointRounding.ToEven), -127f, 127f)).ToArray()).ToArray();

    /// <summary>±1 per dimension (the stored sign bits, unpacked).</summary>
    public static float[][] Signs(IReadOnlyList<float[]> vectors) => vectors.Select(v => v.Select(x => x > 0 ? 1f : -1f).ToArray()).ToArray();

    /// <summary>
    /// Per-dimension median thresholds of normalised calibration vectors, and each side's mean (the value a
    /// bit above or below the threshold is rescored as); a side no calibration value falls on is the threshold.
    /// </summary>
    public static BinaryCalibration CalibrateBinary(IReadOnlyList<float[]> calibration)
    {
        if (calibration.Count == 0) throw new DistillSharpException("binary embedding calibration needs at least one vector");
        var normalised = calibration.Select(Encoder.Embeddings.Normalize).ToArray();
        int dims = normalised[0].Length, n = normalised.Length;
        var (thresholds, below, above) = (new float[dims], new float[dims], new float[dims]);
        var column = new float[n];
        for (int d = 0; d < dims; d++)
        {
            for (int i = 0; i < n; i++) column[i] = normalised[i][d];
            Array.Sort(column);
            float t = n % 2 == 1 ? column[n / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
            double sumBelow = 0, sumAbove = 0;
            int countBelow = 0;
            foreach (float x in column)
                if (x > t) sumAbove += x;
                else { sumBelow += x; countBelow++; }
            thresholds[d] = t;
            below[d] = countBelow > 0 ? (float)(sumBelow / countBelow) : t;
            above[d] = countBelow < n ? (float)(sumAbove / (n - countBelow)) : t;
        }
        return new BinaryCalibration(thresholds, below, above);
    }

    /// <summary>±1 per dimension of the normalised vectors against the calibrated thresholds (the stored bits, unpacked).</summary>
    public static float[][] CalibratedSigns(IReadOnlyList<float[]> vectors, BinaryCalibration calibration) =>
        vectors.Select(Encoder.Embeddings.Normalize).Select(v => v.Select((x, d) => x > calibration.Thresholds[d] ? 1f : -1f).ToArray()).ToArray();

    /// <summary>Float vectors with normalisation (the uncompressed reference).</summary>
    public static RetrievalScores Float(float[][] queries, float[][] candidates) => RetrievalMetrics.FromEmbeddings(queries, candidates);

    /// <summary>Int8 codes for queries and candidates; with <paramref name="rescoreTop"/> &gt; 0, the shortlist is rescored with float queries · dequantized candidates.</summary>
    public static RetrievalScores Int8(float[][] queries, float[][] candidates, float[] scales, int rescoreTop = 0)
    {
        var q = Int8Codes(queries, scales);
        var c = Int8Codes(candidates, scales);
        var dequantized = c.Select(v => v.Select((x, d) => x * scales[d]).ToArray()).ToArray();
        return Rank(q, c, rescoreTop > 0 ? Encoder.Embeddings.Normalize(queries) : null, dequantized, rescoreTop);
    }

    /// <summary>Sign bits for queries and candidates (Hamming); with <paramref name="rescoreTop"/> &gt; 0, the shortlist is rescored with float queries · ±1 candidates.</summary>
    public static RetrievalScores Binary(float[][] queries, float[][] candidates, int rescoreTop = 0)
    {
        var c = Signs(candidates);
        return Rank(Signs(queries), c, rescoreTop > 0 ? Encoder.Embeddings.Normalize(queries) : null, c, rescoreTop);
    }

    /// <summary>
    /// Calibrated sign bits for queries and candidates (Hamming); with <paramref name="rescoreTop"/> &gt; 0, the
    /// shortlist is rescored with float queries · the candidates' bits read as their sides' calibration means.
    /// </summary>
    public static RetrievalScores Binary(float[][] queries, float[][] candidates, BinaryCalibration calibration, int rescoreTop = 0)
    {
        var c = CalibratedSigns(candidates, calibration);
        var stored = c.Select(v => v.Select((b, d) => b > 0 ? calibration.Above[d] : calibration.Below[d]).ToArray()).ToArray();
        return Rank(CalibratedSigns(queries, calibration), c, rescoreTop > 0 ? Encoder.Embeddings.Normalize(queries) : null, stored, rescoreTop);
    }

    /// <summary>
    /// Ranks by <c>q[i]·c[j]</c>; when <paramref name="floatQueries"/> is given, the top
    /// <paramref name="k"/> (ties broken against the correct candidate) are re-ranked by
    /// <c>floatQueries[i]·stored[j]</c>.
    /// </summary>
    public static RetrievalScores Rank(float[][] q, float[][] c, float[][]? floatQueries, float[][] stored, int k)
    {
        if (q.Length != c.Length) throw new ArgumentException($"{q.Length} queries but {c.Length} candidates; they pair up by index");
        int n = q.Length;
        var ranks = new int[n];
        var row = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) row[j] = Dot(q[i], c[j]);
            int rank = RetrievalMetrics.RankOfCorrect(row, i);
            if (floatQueries is not null && k > 0 && rank <= k)
            {
                var others = Enumerable.Range(0, n).Where(j => j != i).OrderByDescending(j => row[j]).Take(k - 1);
                double correct = Dot(floatQueries[i], stored[i]);
                rank = 1 + others.Count(j => Dot(floatQueries[i], stored[j]) >= correct);
            }
            ranks[i] = rank;
        }
        return new RetrievalScores(ranks);
    }

    /// <summary>Indices of the <paramref name="k"/> highest scores of <paramref name="row"/> (ties by lower index).</summary>
    public static int[] TopK(ReadOnlySpan<double> row, int k)
    {
        var copy = row.ToArray();
        var idx = Enumerable.Range(0, copy.Length).ToArray();
        Array.Sort(idx, (a, b) => copy[b].CompareTo(copy[a]) is var c && c != 0 ? c : a.CompareTo(b));
        return idx.Take(k).ToArray();
    }

    /// <summary>SIMD float dot product (exact for int8 codes: sums stay far below 2^24).</summary>
    public static double Dot(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embedding lengths differ: {a.Length} vs {b.Length}");
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
            acc += new Vector<float>(a, i) * new Vector<float>(b, i);
        float sum = Vector.Sum(acc);
        for (; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}

/// <summary>Calibrated sign bits: per dimension the threshold and the values a bit below or above it stands for.</summary>
public sealed record BinaryCalibration(float[] Thresholds, float[] Below, float[] Above);

namespace DistillSharp.Evaluation.Encoder;

/// <summary>Calls an embedding function in batches, checks what it returns, and does the vector math tasks share.</summary>
public static class Embeddings
{
    /// <summary>
    /// Embeds <paramref name="texts"/> in batches of <paramref name="batchSize"/>; throws when the
    /// function returns the wrong count, ragged or empty vectors, or non-finite values.
    /// </summary>
    public static float[][] Embed(Func<IReadOnlyList<string>, float[][]> embed, IReadOnlyList<string> texts, int batchSize, string what)
    {
        if (batchSize <= 0) throw new DistillSharpException($"evaluation batch size {batchSize} must be positive");
        var result = new float[texts.Count][];
        for (int start = 0; start < texts.Count; start += batchSize)
        {
            var batch = texts.Skip(start).Take(batchSize).ToList();
            float[][] vectors = embed(batch);
            if (vectors.Length != batch.Count)
                throw new InvalidOperationException($"{what}: the embedding function returned {vectors.Length} vectors for {batch.Count} texts");
            for (int i = 0; i < vectors.Length; i++) result[start + i] = vectors[i];
        }
        int dim = result.Length > 0 ? result[0].Length : 0;
        for (int i = 0; i < result.Length; i++)
        {
            if (result[i] == null || result[i].Length != dim || dim == 0)
                throw new InvalidOperationException($"{what}: embedding {i} has length {result[i]?.Length ?? 0}, expected {dim} (and > 0)");
            if (!result[i].All(float.IsFinite))
                throw new InvalidOperationException($"{what}: embedding {i} (text '{Preview(texts[i])}') has NaN or infinite values");
        }
        return result;
    }

    /// <summary>L2-normalized copies (a zero vector stays zero).</summary>
    public static float[][] Normalize(float[][] vectors) => vectors.Select(Normalize).ToArray();

    /// <summary>L2-normalized copy of one vector (a zero vector stays zero).</summary>
    public static float[] Normalize(float[] v)
    {
        double norm = Math.Sqrt(Dot(v, v));
        return norm == 0 ? (float[])v.Clone() : v.Select(x => (float)(x / norm)).ToArray();
    }

    /// <summary>Dot product accumulated in double.</summary>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"vector lengths differ: {a.Length} vs {b.Length}");
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return sum;
    }

    /// <summary>Cosine similarity; 0 when either vector is zero.</summary>
    public static double Cosine(float[] a, float[] b)
    {
        double norms = Math.Sqrt(Dot(a, a) * Dot(b, b));
        return norms == 0 ? 0 : Dot(a, b) / norms;
    }

    static string Preview(string text) => text.Length <= 40 ? text : text[..40] + "…";
}

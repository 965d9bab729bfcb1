using static TorchSharp.torch;

namespace DistillSharp.Models;

/// <summary>
/// Principal component analysis of a set of row vectors: the mean μ and the top-k eigenvectors of
/// the covariance Σ = (X − μ)ᵀ(X − μ) / (n − 1), in descending order of eigenvalue (computed in
/// float64 with <c>torch.linalg.eigh</c>). <see cref="Project"/> maps x to C(x − μ) (k values);
/// <see cref="Reconstruct"/> maps y back to Cᵀy + μ. Each component's sign is fixed so that its
/// largest-magnitude entry is positive, which makes a fit reproducible across libtorch builds.
/// Fitted with <c>centre: false</c>, μ = 0 and Σ is the second moment XᵀX / n: the components are then a
/// rotation of the input space itself (all H of them preserve every dot product and cosine exactly).
/// </summary>
/// <param name="Mean">μ, H values.</param>
/// <param name="Components">C, row-major [K, H]; rows are orthonormal.</param>
/// <param name="Variances">The K eigenvalues (variance along each component), descending.</param>
/// <param name="TotalVariance">Trace of Σ (all H directions).</param>
public sealed record PrincipalComponents(float[] Mean, float[] Components, double[] Variances, double TotalVariance)
{
    /// <summary>Input width H.</summary>
    public int Width => Mean.Length;
    /// <summary>Number of components K.</summary>
    public int Count => Variances.Length;
    /// <summary>Share of the total variance the K components keep.</summary>
    public double ExplainedVariance => TotalVariance > 0 ? Variances.Sum() / TotalVariance : 0;

    /// <summary>
    /// Fits the top <paramref name="k"/> components of <paramref name="rows"/> (at least 2, all of one width ≥ k);
    /// <paramref name="centre"/> false fits the uncentred second moment (μ = 0).
    /// </summary>
    public static PrincipalComponents Fit(IReadOnlyList<float[]> rows, int k, bool centre = true)
    {
        if (rows.Count < 2) throw new DistillSharpException($"PCA needs at least 2 vectors, got {rows.Count}");
        int h = rows[0].Length;
        if (k < 1 || k > h) throw new DistillSharpException($"PCA to {k} dimensions: must be in [1, {h}] (the vectors' width)");
        var flat = new float[(long)rows.Count * h];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != h) throw new DistillSharpException($"PCA: vector {i} has {rows[i].Length} values, vector 0 has {h}");
            rows[i].CopyTo(flat, (long)i * h);
        }
        using var scope = NewDisposeScope();
        var x = tensor(flat, [rows.Count, h]).to_type(ScalarType.Float64);   // (n, H)
        var mean = centre ? x.mean([0], keepdim: true) : zeros([1, h], ScalarType.Float64);   // (1, H)
        var centred = x - mean;
        var cov = centred.t().matmul(centred) / (centre ? rows.Count - 1 : rows.Count);       // (H, H)
        var (values, vectors) = linalg.eigh(cov);                               // ascending; columns are eigenvectors
        var top = vectors.flip(1).narrow(1, 0, k).t().contiguous();             // (k, H), descending variance
        var topValues = values.flip(0).narrow(0, 0, k).clamp_min(0);
        // Sign convention: the largest-|.| entry of each component is positive.
        var argmax = top.abs().argmax(1, keepdim: true);
        var signs = top.gather(1, argmax).sign();
        top = top * signs;
        return new PrincipalComponents(
            mean.squeeze(0).to_type(ScalarType.Float32).data<float>().ToArray(),
            top.to_type(ScalarType.Float32).data<float>().ToArray(),
            topValues.data<double>().ToArray(),
            cov.diagonal().sum().item<double>());
    }

    /// <summary>C(x − μ) of every row, as one float64 matrix product (for large sets).</summary>
    public float[][] ProjectAll(IReadOnlyList<float[]> rows)
    {
        if (rows.Count == 0) return [];
        var flat = new float[(long)rows.Count * Width];
        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i].Length != Width) throw new ArgumentException($"vector {i} has {rows[i].Length} values, PCA was fitted on {Width}");
            rows[i].CopyTo(flat, (long)i * Width);
        }
        using var scope = NewDisposeScope();
        var x = tensor(flat, [rows.Count, Width]).to_type(ScalarType.Float64) - tensor(Mean, [1, Width]).to_type(ScalarType.Float64);
        var y = x.matmul(tensor(Components, [Count, Width]).to_type(ScalarType.Float64).t()).to_type(ScalarType.Float32).contiguous();
        var data = y.data<float>().ToArray();
        return Enumerable.Range(0, rows.Count).Select(i => data.AsSpan(i * Count, Count).ToArray()).ToArray();
    }

    /// <summary>C(x − μ): the first K principal coordinates of <paramref name="x"/>.</summary>
    public float[] Project(ReadOnlySpan<float> x, bool centre = true)
    {
        if (x.Length != Width) throw new ArgumentException($"vector has {x.Length} values, PCA was fitted on {Width}");
        var y = new float[Count];
        for (int c = 0; c < Count; c++)
        {
            var row = Components.AsSpan(c * Width, Width);
            double sum = 0;
            for (int j = 0; j < Width; j++) sum += row[j] * (double)(centre ? x[j] - Mean[j] : x[j]);
            y[c] = (float)sum;
        }
        return y;
    }

    /// <summary>Cᵀy + μ: back to the input space.</summary>
    public float[] Reconstruct(ReadOnlySpan<float> y)
    {
        if (y.Length != Count) throw new ArgumentException($"vector has {y.Length} values, PCA has {Count} components");
        var x = (float[])Mean.Clone();
        for (int c = 0; c < Count; c++)
        {
            var row = Components.AsSpan(c * Width, Width);
            for (int j = 0; j < Width; j++) x[j] += row[j] * y[c];
        }
        return x;
    }
}

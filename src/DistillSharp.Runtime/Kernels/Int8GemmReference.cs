namespace DistillSharp.Runtime.Kernels;

/// <summary>
/// The scalar specification of the int8 GEMM on unpacked weights:
/// <c>C[m, n] = act((Σ_k (a[m, k] − zp_m)·w[n, k]) · s_m · s_n + bias[n])</c>.
/// Every kernel must reproduce it bit for bit.
/// </summary>
public static unsafe class Int8GemmReference
{
    /// <summary>
    /// Computes <paramref name="output"/> (<c>a.Rows × n</c>) from activations and plain weights
    /// (<c>n × a.Cols</c>, nn.Linear layout) with per-channel <paramref name="weightScales"/>.
    /// </summary>
    public static void Multiply(QuantizedActivations a, ReadOnlySpan<sbyte> weights, ReadOnlySpan<float> weightScales,
        ReadOnlySpan<float> bias, Span<float> output, GemmActivation activation = GemmActivation.None)
    {
        ArgumentNullException.ThrowIfNull(a);
        int m = a.Rows, k = a.Cols, n = weightScales.Length;
        if (weights.Length != n * k) throw new DistillSharpException($"Weights have {weights.Length} values; expected {n} × {k}.");
        if (!bias.IsEmpty && bias.Length != n) throw new DistillSharpException($"Bias has {bias.Length} values; expected 0 or {n}.");
        if (output.Length != m * n) throw new DistillSharpException($"Output has {output.Length} values; expected {m} × {n}.");
        fixed (float* pb = bias)
        {
            float* biasPtr = bias.IsEmpty ? null : pb;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    int acc = 0;
                    for (int kk = 0; kk < k; kk++) acc += a.Value(i, kk) * weights[j * k + kk];
                    output[i * n + j] = GemmEpilogue.Element(acc, a.Scales[i], weightScales[j], biasPtr, j, activation);
                }
        }
    }
}

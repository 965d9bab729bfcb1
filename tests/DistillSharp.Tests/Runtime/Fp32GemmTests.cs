using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

/// <summary><see cref="Fp32Gemm"/> against a scalar reference that performs the same FMA chain.</summary>
public class Fp32GemmTests
{
    // The reference: y = fma chain over k in order (what every lane of the micro-tile computes), + bias, GELU.
    static float Reference(float[] a, int m, float[] w, int n, int k, float[] bias, bool gelu)
    {
        float acc = 0f;
        for (int kk = 0; kk < k; kk++) acc = MathF.FusedMultiplyAdd(a[m * k + kk], w[n * k + kk], acc);
        if (bias.Length > 0) acc += bias[n];
        return gelu ? FastMath.Gelu(acc) : acc;
    }

    [Fact]
    public void MatchesTheScalarReferenceBitForBitOnRaggedShapes()
    {
        var rng = new Random(5);
        using var pool = new KernelThreadPool(2);
        var job = new Fp32Gemm.Job();
        foreach (var (m, n, k) in new[] { (1, 1, 1), (3, 17, 5), (5, 16, 33), (70, 33, 64), (9, 48, 7) })
            foreach (bool gelu in new[] { false, true })
                foreach (bool withBias in new[] { false, true })
                {
                    float[] Fill(int len) => Enumerable.Range(0, len).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                    var a = Fill(m * k); var w = Fill(n * k); var bias = withBias ? Fill(n) : [];
                    var packed = new PackedFp32Weights(w, n, k);
                    foreach (var p in new[] { null, pool })
                    {
                        var c = new float[m * n];
                        Fp32Gemm.Multiply(a, m, packed, bias, c, gelu ? GemmActivation.Gelu : GemmActivation.None, p, job);
                        for (int i = 0; i < m; i++)
                            for (int j = 0; j < n; j++)
                                Assert.True(Reference(a, i, w, j, k, bias, gelu) == c[i * n + j],
                                    $"({m}×{n}×{k}, gelu {gelu}, bias {withBias}) element [{i}, {j}]: {Reference(a, i, w, j, k, bias, gelu):R} vs {c[i * n + j]:R}");
                    }
                }
    }

    [Fact]
    public void RejectsMismatchedShapes()
    {
        var packed = new PackedFp32Weights(new float[6], 2, 3);
        var e = Assert.Throws<DistillSharpException>(() =>
            Fp32Gemm.Multiply(new float[5], 2, packed, default, new float[4], GemmActivation.None, null, new Fp32Gemm.Job()));
        Assert.Contains("rows (2) × K (3)", e.Message);
        Assert.Throws<DistillSharpException>(() => new PackedFp32Weights(new float[5], 2, 3));
    }
}

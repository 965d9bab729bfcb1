using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

/// <summary>LayerNorm, softmax and element-wise kernels: SIMD vs scalar reference vs double math.</summary>
public class FloatKernelTests
{
    static float[] Random(int n, int seed, double spread = 4)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)((rng.NextDouble() - 0.5) * spread);
        return x;
    }

    static void AssertClose(float[] expected, float[] actual, double tol, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])),
                $"{what}: [{i}] expected {expected[i]:R}, got {actual[i]:R}");
    }

    // The scalar references emulate the SIMD code's 8-lane sums (LaneOrder), so the two agree bit for bit.
    static void AssertBitEqual(float[] expected, float[] actual, string what)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{what}: [{i}] scalar {expected[i]:R}, SIMD {actual[i]:R}");
    }

    [Fact]
    public void GeluAndBiasGeluAreBitIdenticalToScalar()
    {
        foreach (int cols in new[] { 1, 7, 33, 384 })
        {
            var x = Random(3 * cols, cols, 12);
            var bias = Random(cols, cols + 1);
            var a = (float[])x.Clone(); var b = (float[])x.Clone();
            ElementwiseKernels.Gelu(a);
            ElementwiseKernels.GeluScalar(b);
            Assert.Equal(b, a);
            a = (float[])x.Clone(); b = (float[])x.Clone();
            ElementwiseKernels.BiasGelu(a, bias);
            ElementwiseKernels.BiasGeluScalar(b, bias);
            Assert.Equal(b, a);
            // Unfused = fused: add bias, then GELU.
            var c = (float[])x.Clone();
            ElementwiseKernels.AddBias(c, bias);
            ElementwiseKernels.Gelu(c);
            Assert.Equal(a, c);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LayerNormEqualsScalarAndMatchesDouble(bool gelu)
    {
        foreach (int cols in new[] { 1, 7, 33, 384 })
        {
            const int rows = 3;
            const float eps = 1e-12f;
            var x = Random(rows * cols, cols, 6);
            var r = Random(rows * cols, cols + 7, 2);
            for (int i = 0; i < x.Length; i++) x[i] += 3f; // an offset makes the two-pass variance matter
            var gamma = Random(cols, 1, 2); var beta = Random(cols, 2, 1);
            var fused = new float[x.Length];
            if (gelu) LayerNormKernels.ResidualLayerNormGelu(x, r, gamma, beta, eps, fused);
            else LayerNormKernels.ResidualLayerNorm(x, r, gamma, beta, eps, fused);
            var scalar = new float[x.Length];
            LayerNormKernels.LayerNormScalar(x, r, gamma, beta, eps, scalar, gelu);
            AssertBitEqual(scalar, fused, $"SIMD vs scalar, cols={cols}");
            // Unfused path: residual add, LayerNorm, GELU as separate kernels.
            var unfused = new float[x.Length];
            ElementwiseKernels.ResidualAdd(x, r, unfused);
            LayerNormKernels.LayerNorm(unfused, gamma, beta, eps, unfused);
            if (gelu) ElementwiseKernels.Gelu(unfused);
            Assert.Equal(fused, unfused);
            // Double-precision definition (GELU via the float kernel, whose own error is tested elsewhere).
            var exact = new float[x.Length];
            for (int row = 0; row < rows; row++)
            {
                double mean = 0, var = 0;
                for (int c = 0; c < cols; c++) mean += (double)x[row * cols + c] + r[row * cols + c];
                mean /= cols;
                for (int c = 0; c < cols; c++) { double d = (double)x[row * cols + c] + r[row * cols + c] - mean; var += d * d; }
                var /= cols;
                for (int c = 0; c < cols; c++)
                {
                    double y = ((double)x[row * cols + c] + r[row * cols + c] - mean) / Math.Sqrt(var + eps) * gamma[c] + beta[c];
                    exact[row * cols + c] = gelu ? FastMath.Gelu((float)y) : (float)y;
                }
            }
            AssertClose(exact, fused, 2e-5, $"SIMD vs double, cols={cols}");
        }
    }

    [Fact]
    public void SoftmaxWithMaskEqualsScalarAndMatchesDouble()
    {
        foreach (int cols in new[] { 1, 7, 33, 64, 384 })
        {
            const int rows = 4;
            var x = Random(rows * cols, cols, 20);
            var mask = new float[cols];
            for (int c = 0; c < cols; c++) mask[c] = c % 3 == 2 ? float.NegativeInfinity : c % 5 == 4 ? -10000f : 0f;
            var simd = (float[])x.Clone(); var scalar = (float[])x.Clone();
            SoftmaxKernels.Softmax(simd, cols, mask, 0.125f);
            SoftmaxKernels.SoftmaxScalar(scalar, cols, mask, 0.125f);
            AssertBitEqual(scalar, simd, $"SIMD vs scalar, cols={cols}");
            for (int row = 0; row < rows; row++)
            {
                double max = double.NegativeInfinity, sum = 0;
                for (int c = 0; c < cols; c++) max = Math.Max(max, x[row * cols + c] * 0.125 + mask[c]);
                for (int c = 0; c < cols; c++) sum += Math.Exp(x[row * cols + c] * 0.125 + mask[c] - max);
                for (int c = 0; c < cols; c++)
                {
                    double p = Math.Exp(x[row * cols + c] * 0.125 + mask[c] - max) / sum;
                    Assert.True(Math.Abs(simd[row * cols + c] - p) <= 1e-6 * (p + 1e-3), $"cols={cols} [{row},{c}] {simd[row * cols + c]} vs {p}");
                }
                if (mask[0] == 0) Assert.Equal(1.0, simd.Skip(row * cols).Take(cols).Sum(v => (double)v), 1e-5);
            }
        }
    }

    [Fact]
    public void FullyMaskedRowBecomesZeros()
    {
        var x = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
        SoftmaxKernels.Softmax(x, 9, Enumerable.Repeat(float.NegativeInfinity, 9).ToArray());
        Assert.All(x, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void FloatKernelsDoNotAllocate()
    {
        var x = Random(64 * 384, 1); var r = Random(64 * 384, 2); var g = Random(384, 3); var b = Random(384, 4);
        var y = new float[x.Length];
        var mask = new float[384];
        void Once()
        {
            LayerNormKernels.ResidualLayerNormGelu(x, r, g, b, 1e-12f, y);
            ElementwiseKernels.BiasGelu(y, b);
            SoftmaxKernels.Softmax(y, 384, mask);
        }
        Once();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Once();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ShapeErrorsNameTheLengths()
    {
        var e = Assert.Throws<DistillSharpException>(() => LayerNormKernels.LayerNorm(new float[10], new float[4], new float[4], 1e-5f, new float[10]));
        Assert.Contains("x=10", e.Message);
        e = Assert.Throws<DistillSharpException>(() => SoftmaxKernels.Softmax(new float[8], 4, new float[3]));
        Assert.Contains("3", e.Message);
    }
}

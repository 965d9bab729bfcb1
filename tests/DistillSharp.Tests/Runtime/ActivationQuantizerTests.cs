using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

public class ActivationQuantizerTests
{
    [Theory]
    [InlineData(ActivationQuantization.AsymmetricU8)]
    [InlineData(ActivationQuantization.SymmetricS8)]
    [InlineData(ActivationQuantization.PerTensorAsymmetricU8)]
    public void SimdMatchesScalarBitForBit(ActivationQuantization scheme)
    {
        var rng = new Random(11);
        foreach (int cols in new[] { 1, 5, 7, 16, 33, 64, 385, 1536 })
            foreach (int rows in new[] { 1, 3, 17 })
            {
                var x = new float[rows * cols];
                for (int i = 0; i < x.Length; i++) x[i] = (float)((rng.NextDouble() - 0.3) * (1 + i % 5) * 3);
                var simd = new QuantizedActivations(rows, cols, scheme);
                var scalar = new QuantizedActivations(rows, cols, scheme);
                ActivationQuantizer.Quantize(x, rows, simd);
                ActivationQuantizer.QuantizeScalar(x, rows, scalar);
                Assert.Equal(scalar.Data.ToArray(), simd.Data.ToArray());
                Assert.Equal(scalar.Scales.ToArray(), simd.Scales.ToArray());
                Assert.Equal(scalar.ZeroPoints.ToArray(), simd.ZeroPoints.ToArray());
            }
    }

    [Fact]
    public void PerTensor_is_the_asymmetric_row_rule_applied_to_the_whole_matrix()
    {
        // Rows [-1, 0.5] and [0.25, 2.5]: the matrix's min −1 and max 2.5 give every row
        // s = 3.5/255 and zp = 73 (ONNX DynamicQuantizeLinear's rule), unlike per row.
        float[] x = [-1f, 0.5f, 0.25f, 2.5f];
        var q = new QuantizedActivations(2, 2, ActivationQuantization.PerTensorAsymmetricU8);
        ActivationQuantizer.Quantize(x, 2, q);
        Assert.Equal([3.5f / 255f, 3.5f / 255f], q.Scales.ToArray());
        Assert.Equal([73, 73], q.ZeroPoints.ToArray());
        float inv = 1f / (3.5f / 255f);
        Assert.Equal([0, (byte)(MathF.Round(0.5f * inv) + 73), (byte)(MathF.Round(0.25f * inv) + 73), 255], q.Data.ToArray().Where((_, i) => i % q.Stride < 2));
    }

    [Fact]
    public void AsymmetricParamsAndHalfToEvenRounding()
    {
        // Row [-1, 2.5, …]: min −1, max 2.5 → s = 3.5/255, zp = round(255/3.5) = round(72.857) = 73.
        var (s, zp) = ActivationQuantizer.ChooseParams(-1f, 2.5f, symmetric: false);
        Assert.Equal(3.5f / 255f, s);
        Assert.Equal(73, zp);
        // Scale exactly 1 (range 0..255), so x·(1/s) = x and ties must go to the even integer:
        // 0.5 → 0, 1.5 → 2, 2.5 → 2, 3.5 → 4 (then + zp 0). Padded with 255 to fix max = 255, and
        // with 32 values so the SIMD body, not the scalar tail, handles them.
        var x = new float[32];
        float[] ties = [0.5f, 1.5f, 2.5f, 3.5f, 254.5f];
        ties.CopyTo(x, 0);
        ties.CopyTo(x, 24);
        x[10] = 255f;
        foreach (var quantize in new Action<float[], QuantizedActivations>[]
                 { (v, q) => ActivationQuantizer.Quantize(v, 1, q), (v, q) => ActivationQuantizer.QuantizeScalar(v, 1, q) })
        {
            var q = new QuantizedActivations(1, 32, ActivationQuantization.AsymmetricU8);
            quantize(x, q);
            Assert.Equal(1f, q.Scales[0]);
            Assert.Equal(0, q.ZeroPoints[0]);
            byte[] expected = [0, 2, 2, 4, 254];
            Assert.Equal(expected, q.Data.Slice(0, 5).ToArray());
            Assert.Equal(expected, q.Data.Slice(24, 5).ToArray());
        }
    }

    [Fact]
    public void SymmetricStoresOffsetBinaryWithinMinus127To127()
    {
        var q = new QuantizedActivations(1, 4, ActivationQuantization.SymmetricS8);
        ActivationQuantizer.Quantize([-2f, 2f, 1f, 0f], 1, q);
        Assert.Equal(2f / 127f, q.Scales[0]);
        Assert.Equal(128, q.ZeroPoints[0]);
        Assert.Equal([-127, 127, 64, 0], Enumerable.Range(0, 4).Select(i => q.Value(0, i))); // 63.5 → 64 (even)
    }

    [Fact]
    public void ZeroRowAndStridePadding()
    {
        var q = new QuantizedActivations(2, 5, ActivationQuantization.AsymmetricU8);
        ActivationQuantizer.Quantize(new float[10], 2, q);
        Assert.Equal(8, q.Stride);
        Assert.Equal((1f, 0), (q.Scales[0], q.ZeroPoints[0]));
        Assert.All(q.Data.ToArray(), b => Assert.Equal(0, b));
        var e = Assert.Throws<DistillSharpException>(() => ActivationQuantizer.Quantize(new float[9], 2, q));
        Assert.Contains("9", e.Message);
    }
}

using System.Runtime.Intrinsics;
using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

public class FastMathTests
{
    /// <summary>
    /// Double-precision erf from the everywhere-positive series
    /// erf(x) = 2/√π · e^(−x²) · Σ_n 2ⁿ x^(2n+1) / (1·3·…·(2n+1)) (Abramowitz &amp; Stegun 7.1.6):
    /// no cancellation, so it is accurate to ~1e-15 for |x| ≤ 6; erf(x) = ±1 to 2e-17 beyond.
    /// </summary>
    static double ErfReference(double x)
    {
        double ax = Math.Abs(x);
        if (ax > 6) return Math.Sign(x);
        double term = ax, sum = ax;
        for (int n = 1; term > 1e-17 * sum; n++)
        {
            term *= 2 * ax * ax / (2 * n + 1);
            sum += term;
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * Math.Exp(-ax * ax) * sum;
    }

    [Fact]
    public void ReferenceErfMatchesKnownValues()
    {
        // Tabulated values (Abramowitz & Stegun Table 7.1): erf(0.5), erf(1), erf(2).
        Assert.Equal(0.5204998778130465, ErfReference(0.5), 1e-14);
        Assert.Equal(0.8427007929497149, ErfReference(1.0), 1e-14);
        Assert.Equal(0.9953222650189527, ErfReference(2.0), 1e-14);
    }

    [Fact]
    public void ErfIsWithinTheDocumentedBound()
    {
        // Bound from FastMath's remarks: 6.6e-8 relative (fit error + one float rounding).
        const double bound = 7e-8;
        double worst = 0;
        for (int i = -40000; i <= 40000; i++)
        {
            float x = i * 1e-4f;
            if (x == 0) continue;
            double rel = Math.Abs(FastMath.Erf(x) - ErfReference(x)) / Math.Abs(ErfReference(x));
            worst = Math.Max(worst, rel);
        }
        foreach (float x in new[] { 1e-30f, 1e-10f, 1e-5f, 5f, 1e4f, float.MaxValue })
            worst = Math.Max(worst, Math.Abs(FastMath.Erf(x) - ErfReference(x)) / ErfReference(x));
        Assert.True(worst < bound, $"worst relative error {worst:E3}");
        Assert.Equal(0f, FastMath.Erf(0f));
        Assert.Equal(-1f, FastMath.Erf(float.NegativeInfinity));
    }

    [Fact]
    public void GeluMatchesTheErfDefinition()
    {
        // GELU(x) = x/2·(1 + erf(x/√2)); absolute error ≤ 7e-8·|x|/2 (erf) plus the float roundings
        // of x/√2, x/2 and the final fused multiply-add.
        for (int i = -8000; i <= 8000; i++)
        {
            float x = i * 1e-3f;
            double expected = 0.5 * x * (1 + ErfReference(x / Math.Sqrt(2)));
            Assert.True(Math.Abs(FastMath.Gelu(x) - expected) <= 1.5e-7 * Math.Abs(x) + 1.2e-7 * Math.Abs(expected),
                $"GELU({x}) = {FastMath.Gelu(x):R}, expected {expected:R}");
        }
    }

    [Fact]
    public void ExpIsAccurate()
    {
        // Relative bound 2e-7 (≈ 1.7 ulp) against Math.Exp in double, over softmax's range.
        for (int i = -87000; i < 88000; i += 7)
        {
            float x = i * 1e-3f;
            double rel = Math.Abs(FastMath.Exp(x) - Math.Exp(x)) / Math.Exp(x);
            Assert.True(rel < 2e-7, $"exp({x}) relative error {rel:E3}");
        }
        Assert.Equal(0f, FastMath.Exp(float.NegativeInfinity));
        Assert.Equal(1f, FastMath.Exp(0f));
    }

    [Fact]
    public void VectorFormsAreBitIdenticalToScalar()
    {
        var rng = new Random(3);
        var lanes = new float[8];
        for (int trial = 0; trial < 20000; trial++)
        {
            for (int j = 0; j < 8; j++) lanes[j] = (float)((rng.NextDouble() - 0.5) * (trial % 3 == 0 ? 200 : 12));
            var v = Vector256.Create(lanes);
            var erf = FastMath.Erf(v);
            var gelu = FastMath.Gelu(v);
            var exp = FastMath.Exp(-Vector256.Abs(v));
            for (int j = 0; j < 8; j++)
            {
                Assert.Equal(BitConverter.SingleToInt32Bits(FastMath.Erf(lanes[j])), BitConverter.SingleToInt32Bits(erf[j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(FastMath.Gelu(lanes[j])), BitConverter.SingleToInt32Bits(gelu[j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(FastMath.Exp(-MathF.Abs(lanes[j]))), BitConverter.SingleToInt32Bits(exp[j]));
            }
        }
    }
}

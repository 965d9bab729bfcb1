using DistillSharp.Models.Decoder;
using DistillSharp.Runtime.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Models.Decoder;

/// <summary>Rotary embedding against its formulas, computed here in scalar double arithmetic.</summary>
public class RotaryEmbeddingTests
{
    const int Dim = 8;

    static double Theta(int i, double b = 10000) => Math.Pow(b, -2.0 * i / Dim);

    [Fact]
    public void RotatesPairIAndIPlusHalfByPositionTimesTheta()
    {
        using var scope = NewDisposeScope();
        var rope = new RotaryEmbedding(Dim, 10000, null, 128);
        manual_seed(1);
        var x = randn(1, 1, 3, Dim, dtype: ScalarType.Float64).to_type(ScalarType.Float32); // (B, h, T, d)
        var positions = tensor(new long[] { 0, 5, 37 }, [1, 3]);
        var (cos, sin) = rope.CosSin(positions);
        var y = RotaryEmbedding.Apply(x, cos, sin);
        var xs = x.data<float>().ToArray();
        var ys = y.data<float>().ToArray();
        long[] pos = [0, 5, 37];
        for (int t = 0; t < 3; t++)
            for (int i = 0; i < Dim / 2; i++)
            {
                double a = pos[t] * Theta(i), x1 = xs[t * Dim + i], x2 = xs[t * Dim + i + Dim / 2];
                Assert.Equal(x1 * Math.Cos(a) - x2 * Math.Sin(a), ys[t * Dim + i], 5);
                Assert.Equal(x1 * Math.Sin(a) + x2 * Math.Cos(a), ys[t * Dim + i + Dim / 2], 5);
            }
    }

    [Fact]
    public void LinearDividesEveryFrequency()
    {
        var rope = new RotaryEmbedding(Dim, 10000, new RopeScaling { Type = "linear", Factor = 4 }, 128);
        for (int i = 0; i < Dim / 2; i++) Assert.Equal(Theta(i) / 4, rope.InverseFrequencies()[i], 12);
    }

    [Fact]
    public void DynamicGrowsTheBaseOnlyPastTheOriginalContext()
    {
        var rope = new RotaryEmbedding(Dim, 10000, new RopeScaling { Type = "dynamic", Factor = 2 }, 16);
        Assert.Equal(Enumerable.Range(0, Dim / 2).Select(i => Theta(i)), rope.InverseFrequencies(15));
        // n = 32 positions: base' = 10000 · (2·32/16 − 1)^(8/6)
        double b = 10000 * Math.Pow(3, 8.0 / 6);
        var f = rope.InverseFrequencies(31);
        for (int i = 0; i < Dim / 2; i++) Assert.Equal(Theta(i, b), f[i], 12);
    }

    [Fact]
    public void Llama3KeepsShortWavelengthsDividesLongOnesAndBlendsBetween()
    {
        // n0 = 64, low = 1, high = 4 → wavelengths > 64 divided by 8, < 16 kept, smooth in between.
        var s = new RopeScaling { Type = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 64 };
        var rope = new RotaryEmbedding(Dim, 10000, s, 1024);
        for (int i = 0; i < Dim / 2; i++)
        {
            double f = Theta(i), wavelen = 2 * Math.PI / f, expected;
            if (wavelen < 16) expected = f;
            else if (wavelen > 64) expected = f / 8;
            else { double smooth = (64 / wavelen - 1) / 3; expected = (1 - smooth) * f / 8 + smooth * f; }
            Assert.Equal(expected, rope.InverseFrequencies()[i], 12);
        }
        // θ = 1, 0.1, 0.01, 0.001: wavelengths 6.3 (kept), 62.8 (blended), 628 and 6283 (divided).
        Assert.Equal(1.0, rope.InverseFrequencies()[0], 12);
        Assert.Equal(0.001 / 8, rope.InverseFrequencies()[3], 12);
    }

    [Fact]
    public void YarnRampsBetweenInterpolationAndExtrapolationAndScalesCosSin()
    {
        var s = new RopeScaling { Type = "yarn", Factor = 4, OriginalMaxPositions = 64, BetaFast = 32, BetaSlow = 1 };
        var rope = new RotaryEmbedding(Dim, 10000, s, 256);
        // Correction dims: d·ln(n0/(β·2π)) / (2·ln base); low = floor(for β_fast) clamped ≥ 0, high = ceil(for β_slow).
        double Corr(double beta) => Dim * Math.Log(64 / (beta * 2 * Math.PI)) / (2 * Math.Log(10000));
        double low = Math.Max(Math.Floor(Corr(32)), 0), high = Math.Min(Math.Ceiling(Corr(1)), Dim - 1);
        Assert.Equal((0.0, 2.0), (low, high)); // by hand: Corr(32) = 8·ln(0.318)/18.42 = −0.50, Corr(1) = 8·ln(10.19)/18.42 = 1.01
        for (int i = 0; i < Dim / 2; i++)
        {
            double ramp = Math.Clamp((i - low) / (high - low), 0, 1);
            Assert.Equal(Theta(i) / 4 * ramp + Theta(i) * (1 - ramp), rope.InverseFrequencies()[i], 12);
        }
        Assert.Equal(0.1 * Math.Log(4) + 1, rope.AttentionScaling, 12);
        using var scope = NewDisposeScope();
        var (cos, _) = rope.CosSin(tensor(new long[] { 0 }, [1, 1]));
        Assert.Equal(0.1 * Math.Log(4) + 1, cos.data<float>()[0], 5); // cos(0) · mscale
    }
}

using DistillSharp.Quantization;
using DistillSharp.Runtime.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

public class FakeQuantTests
{
    [Theory]
    [InlineData(true, -1)]
    [InlineData(false, -1)]
    [InlineData(true, 0)]
    public void ForwardEqualsScalarReferenceAndGradientIsTheSteMask(bool symmetric, int axis)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var x = (randn(4, 16) * 2).requires_grad_(true);
        // Parameters from a narrower range than the data, so some values are clamped.
        var spec = new QuantSpec(8, symmetric, axis);
        var p = axis < 0 ? QuantReference.ChooseQParams(-1.5f, 1.0f, spec)
                         : QuantReference.ChooseQParams([-1f, -2f, -1f, -0.5f], [1f, 2f, 1f, 0.5f], spec);
        var y = FakeQuantFunction.Apply(x, p);
        var flat = TensorQuant.ToFloatArray(x);
        Assert.Equal(QuantReference.FakeQuantize(flat, x.shape, p), TensorQuant.ToFloatArray(y));

        var upstream = randn(4, 16);
        (y * upstream).sum().backward();
        // Reference mask: round(x/s)+zp inside [qmin, qmax] (computed with the scalar primitives, unclamped).
        var up = TensorQuant.ToFloatArray(upstream);
        var expected = new float[flat.Length];
        for (var i = 0; i < flat.Length; i++)
        {
            var c = axis < 0 ? 0 : i / 16;
            var r = MathF.Round(flat[i] / p.Scales[c], MidpointRounding.ToEven) + p.ZeroPoints[c];
            expected[i] = r >= p.QMin && r <= p.QMax ? up[i] : 0f;
        }
        Assert.Equal(expected, TensorQuant.ToFloatArray(x.grad!));
        Assert.Contains(0f, expected);                           // some values were clamped
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void LsqGradientsMatchFiniteDifferencesOfTheSteSurrogate(bool perChannel)
    {
        // Reference: central differences of f(s) = Σ c · (s·clip(x/s) + s·r), r = round(clip(x/s₀)) − clip(x/s₀) frozen
        // at s₀ — the function whose derivative the LSQ paper's estimator is (round's slope taken as 1).
        using var scope = NewDisposeScope();
        manual_seed(5);
        var x = randn(3, 50) * 3;                                // |x| up to ~9; s·127 ≈ 2.5 → many clipped
        var c = randn(3, 50);
        var s0 = perChannel ? new[] { 0.02f, 0.03f, 0.05f } : [0.02f];
        var scale = (perChannel ? tensor(s0).reshape(3, 1) : tensor(s0[0])).requires_grad_(true);
        var y = LsqFunction.Apply(x, scale, -127, 127, gradScale: 1.0);
        Assert.Equal(TensorQuant.ToFloatArray(TensorQuant.FakeQuantize(x, perChannel
                ? QuantReference.ChooseQParams(s0.Select(v => -v * 127).ToArray(), s0.Select(v => v * 127).ToArray(), QuantSpec.Int8PerChannel(0))
                : QuantReference.ChooseQParams(-s0[0] * 127, s0[0] * 127, QuantSpec.Int8Symmetric))),
            TensorQuant.ToFloatArray(y), new ToleranceComparer(1e-6f));
        (y * c).sum().backward();
        var grad = TensorQuant.ToFloatArray(scale.grad!);

        var xs = TensorQuant.ToFloatArray(x);
        var cs = TensorQuant.ToFloatArray(c);
        for (var ch = 0; ch < s0.Length; ch++)
        {
            double Surrogate(double s)
            {
                double sum = 0;
                for (var i = 0; i < xs.Length; i++)
                {
                    if (perChannel && i / 50 != ch) continue;
                    var sc = perChannel ? s0[i / 50] : s0[0];
                    var z0 = Math.Clamp(xs[i] / sc, -127.0, 127.0);
                    var residual = Math.Round(z0, MidpointRounding.ToEven) - z0;
                    sum += cs[i] * (s * Math.Clamp(xs[i] / s, -127.0, 127.0) + s * residual);
                }
                return sum;
            }
            const double h = 1e-6;
            var fd = (Surrogate(s0[ch] + h) - Surrogate(s0[ch] - h)) / (2 * h);
            Assert.True(Math.Abs(fd - grad[ch]) <= 1e-3 * Math.Max(1, Math.Abs(fd)), $"channel {ch}: fd {fd} vs lsq {grad[ch]}");
        }
    }

    [Fact]
    public void LsqGradScaleMultipliesTheScaleGradientOnly()
    {
        // Paper §2.2: g = 1/√(N·Qp); for N = 100, Qp = 127 that is 1/√12700.
        Assert.Equal(1 / Math.Sqrt(12700), LsqFunction.GradScale(100, 127), 12);
        using var scope = NewDisposeScope();
        manual_seed(2);
        var x = randn(100).requires_grad_(true);
        var s1 = tensor(0.01f).requires_grad_(true);
        var s2 = tensor(0.01f).requires_grad_(true);
        LsqFunction.Apply(x, s1, -127, 127, 1.0).sum().backward();
        var gx = TensorQuant.ToFloatArray(x.grad!);
        x.grad!.zero_();
        LsqFunction.Apply(x, s2, -127, 127, 0.25).sum().backward();
        Assert.Equal(s1.grad!.item<float>() * 0.25f, s2.grad!.item<float>(), 5);
        Assert.Equal(gx, TensorQuant.ToFloatArray(x.grad!));
    }

    private sealed class ToleranceComparer(float tol) : IEqualityComparer<float>
    {
        public bool Equals(float a, float b) => Math.Abs(a - b) <= tol;
        public int GetHashCode(float v) => 0;
    }
}

using DistillSharp.Distillation;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

/// <summary>
/// The one-pass AdamW step against TorchSharp's own <c>AdamW.step()</c>: the same weights, gradients
/// and settings must give bit-identical weights and moments, step after step, at every thread count.
/// </summary>
public sealed class FusedAdamWTests
{
    // A matrix big enough to be split over threads, a vector, lengths that are no multiple of 16 or 32.
    static readonly long[][] Shapes = [[3000, 48], [384], [7], [33, 31], [1536, 3]];

    static List<Parameter> Parameters(int seed)
    {
        var g = new Generator().manual_seed(seed);
        return Shapes.Select(s => new Parameter(randn(s, generator: g) * 0.05f)).ToList();
    }

    static AdamW Optimizer(IReadOnlyList<Parameter> ps, double lr) =>
        OptimizerStep.CreateAdamW(ps, new OptimizerConfig(Lr: lr, Beta1: 0.9, Beta2: 0.98, Eps: 1e-8, WeightDecay: 0.01));

    static void AssertBitIdentical(Tensor expected, Tensor actual, string what)
    {
        var a = expected.data<float>().ToArray();
        var b = actual.data<float>().ToArray();
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++)
            if (BitConverter.SingleToInt32Bits(a[i]) != BitConverter.SingleToInt32Bits(b[i]))
                Assert.Fail($"{what}[{i}]: TorchSharp {a[i]:R}, fused {b[i]:R}");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void StepsAreBitIdenticalToTorchSharpsAdamW(int threads)
    {
        var reference = Parameters(3);
        var fused = Parameters(3);
        using var refOpt = Optimizer(reference, 1e-3);
        using var fusedOpt = Optimizer(fused, 1e-3);
        var gen = new Generator().manual_seed(11);
        for (int step = 0; step < 6; step++)
        {
            // A new learning rate every step, as the schedule sets it.
            double lr = 1e-3 * (1 + step) / 6;
            foreach (var group in refOpt.ParamGroups.Concat(fusedOpt.ParamGroups)) group.LearningRate = lr;
            for (int i = 0; i < reference.Count; i++)
            {
                using var grad = randn(reference[i].shape, generator: gen) * (step + 1) * 0.1f;
                reference[i].grad = grad.clone();
                fused[i].grad = grad.clone();
            }
            refOpt.step();
            Assert.True(FusedAdamW.TryStep(fusedOpt, threads));
        }
        var refState = refOpt.state_dict().State.Cast<AdamW.State>().ToList();
        var fusedState = fusedOpt.state_dict().State.Cast<AdamW.State>().ToList();
        for (int i = 0; i < reference.Count; i++)
        {
            AssertBitIdentical(reference[i], fused[i], $"param {i}");
            AssertBitIdentical(refState[i].exp_avg, fusedState[i].exp_avg, $"exp_avg {i}");
            AssertBitIdentical(refState[i].exp_avg_sq, fusedState[i].exp_avg_sq, $"exp_avg_sq {i}");
            Assert.Equal(refState[i].step, fusedState[i].step);
        }
        // The weights moved: a step that did nothing would pass the comparisons above too.
        using var start = Parameters(3)[0].detach();
        Assert.True(fused[0].sub(start).abs().max().item<float>() > 1e-4f);
    }

    [Fact]
    public void OtherTensorsAreLeftToTheOptimizerUntouched()
    {
        var ps = new List<Parameter> { new(randn(16, 4, dtype: ScalarType.Float64)) };
        using var opt = Optimizer(ps, 1e-3);
        ps[0].grad = ones_like(ps[0]);
        using var before = ps[0].detach().clone();
        Assert.False(FusedAdamW.TryStep(opt, 2));
        Assert.True(before.allclose(ps[0], rtol: 0, atol: 0));
        Assert.Equal(0, opt.state_dict().State.Cast<AdamW.State>().Single().step);
    }
}

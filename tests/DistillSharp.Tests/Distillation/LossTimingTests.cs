using System.Diagnostics;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

/// <summary>
/// Forward + backward time of every term at a realistic size (student 3×384×12 heads, teacher
/// 6×384×12 heads, batch 32 × 64 tokens, float32). Prints a table; asserts only that losses are finite.
/// </summary>
public class LossTimingTests(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public void ForwardBackwardTimePerTerm()
    {
        using var outer = NewDisposeScope();
        const int B = 32, T = 64, H = 384, Heads = 12, V = 2;
        var ctx = new LossContext(new ModelShape(3, H, Heads, T), new ModelShape(6, H, Heads, T));
        manual_seed(0);
        var mask = ones(B, T, ScalarType.Int64);
        mask[.., 48..] = 0;
        ModelOutput Make(int layers, bool grad)
        {
            Tensor R(params long[] shape) => randn(shape, requires_grad: grad);
            Tensor[] PerLayer() => Enumerable.Range(0, layers).Select(_ => R(B, Heads, T, H / Heads)).ToArray();
            return new ModelOutput
            {
                AttentionMask = mask,
                HiddenStates = Enumerable.Range(0, layers + 1).Select(_ => R(B, T, H)).ToArray(),
                Attentions = Enumerable.Range(0, layers).Select(_ => LossTestKit.SoftmaxAttention(randn(B, Heads, T, T), mask).requires_grad_(grad)).ToArray(),
                Queries = PerLayer(), Keys = PerLayer(), Values = PerLayer(), Pooled = R(B, H), Logits = R(B, V),
            };
        }
        var student = Make(3, true);
        var teacher = Make(6, false);
        var batch = new LossBatch { AttentionMask = mask, Labels = randint(0, V, B), Pairs = stack([arange(0, 16), arange(16, 32)], 1) };
        output.WriteLine($"{"term",-20} {"ms (median of 5)",16}");
        foreach (var d in LossRegistry.All.Values)
        {
            var term = d.Build(ctx);
            if (term is ITeacherFittedTerm fitted)
                fitted.Fit(Enumerable.Range(0, 512).Select(_ => randn(H).data<float>().ToArray()).ToList());   // the basis matryoshka needs
            var times = new List<double>();
            for (var i = 0; i < 6; i++)
            {
                using var step = NewDisposeScope();
                var sw = Stopwatch.StartNew();
                var loss = term.Compute(student, teacher, batch).Loss;
                loss.backward();
                sw.Stop();
                Assert.True(double.IsFinite(loss.item<float>()), d.Name);
                if (i > 0) times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            output.WriteLine($"{d.Name,-20} {times[2],16:F2}");
        }
    }
}

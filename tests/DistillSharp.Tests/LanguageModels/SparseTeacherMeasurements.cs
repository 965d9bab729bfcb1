using DistillSharp.Distillation.Divergences;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DistillSharp.Tests.LanguageModels;

/// <summary>
/// Measures (does not assert much): how far the sparse forward KL is below the dense one, per k,
/// on synthetic logits with V = 8192. Numbers go to docs/LM-DISTILLATION.md. Run with
/// <c>dotnet test --filter "FullyQualifiedName~SparseTeacherMeasurements" --logger "console;verbosity=detailed"</c>.
/// </summary>
public class SparseTeacherMeasurements(ITestOutputHelper output)
{
    [Fact]
    [Trait("Category", "Slow")]
    public void ForwardKlGapByK()
    {
        using var scope = NewDisposeScope();
        const int V = 8192;
        manual_seed(11);
        var kl = new TokenKdLoss(new ForwardKl());
        var mask = ones(4, 64).gt(0);
        foreach (double sigma in new[] { 2.0, 4.0 })
        {
            var teacher = randn(4, 64, V) * sigma;                                   // (B, T, V)
            foreach (var (label, student) in new[] { ("student = teacher + N(0, 1) noise", teacher + randn(4, 64, V)), ("independent student", randn(4, 64, V) * sigma) })
            {
                double dense = kl.Compute(student, new DenseTeacher(teacher), mask).item<float>();
                foreach (int k in new[] { 8, 32, 128 })
                {
                    var sparse = SparseTeacher.FromLogits(teacher, k, 1);
                    double approx = kl.Compute(student, sparse, mask).item<float>();
                    double tail = sparse.TailLogMass.exp().mean().item<float>();
                    output.WriteLine($"σ={sigma} {label}: k={k,3} dense KL {dense:F4}, sparse {approx:F4} ({100 * (dense - approx) / dense:F1}% below), mean teacher tail mass {tail:F3}, {new SparseCacheOptions(k).BytesPerToken} B/token (fp16)");
                    Assert.True(approx <= dense + 1e-4);
                }
            }
        }
    }
}

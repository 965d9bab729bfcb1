using DistillSharp.Distillation.Encoder.Losses;
using TorchSharp;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class EmbeddingLossTests
{
    static Tensor Loss(ILossTerm term, Tensor s, Tensor t)
    {
        var mask = ones(s.shape[0], 1, ScalarType.Int64);
        return term.Compute(Output(mask, pooled: s), Output(mask, pooled: t), new LossBatch { AttentionMask = mask }).Loss;
    }

    [Fact]
    public void SameWidthUsesIdentityAndMatchesHandValues()
    {
        using var scope = NewDisposeScope();
        var mse = new EmbeddingMseLoss(2, 2, "auto");
        var cos = new EmbeddingCosineLoss(2, 2, "auto");
        Assert.Empty(mse.Parameters());
        Assert.Empty(cos.Parameters());
        // ((1−0)² + (2−0)²) / 2 = 2.5;  1 − cos((1,0), (1,1)) = 1 − 1/√2.
        Assert.Equal(2.5, Item(Loss(mse, D([1, 2], 1, 2), D([0, 0], 1, 2))), 12);
        Assert.Equal(1 - 1 / Math.Sqrt(2), Item(Loss(cos, D([1, 0], 1, 2), D([1, 1], 1, 2))), 12);
        // Forced projection on equal widths: a learned Linear(2, 2) with weight and bias.
        Assert.Equal(2, new EmbeddingMseLoss(2, 2, "always").Parameters().Count());
    }

    [Fact]
    public void DifferentWidthsGoThroughTheLearnedProjection()
    {
        using var scope = NewDisposeScope();
        var term = new EmbeddingMseLoss(2, 3, "auto");
        term.to(ScalarType.Float64);
        var p = term.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        using (no_grad())
        {
            p["projection.linear.weight"].copy_(D([1, 0, 0, 1, 1, 1], 3, 2));
            p["projection.linear.bias"].zero_();
        }
        // W·(1, 2) = (1, 2, 3) against (0, 0, 0): (1 + 4 + 9) / 3 = 14/3.
        Assert.Equal(14.0 / 3, Item(Loss(term, D([1, 2], 1, 2), D([0, 0, 0], 1, 3))), 12);
    }

    [Fact]
    public void GradientsMatchFiniteDifferencesIncludingProjection()
    {
        using var scope = NewDisposeScope();
        var s = Randn(21, 3, 2);
        var t = Randn(22, 3, 3);
        foreach (var term in new LossTerm[] { new EmbeddingMseLoss(2, 3, "auto"), new EmbeddingCosineLoss(2, 3, "auto") })
        {
            term.to(ScalarType.Float64);
            GradCheck(x => Loss(term, x, t), s);
            foreach (var parameter in term.parameters())
                GradCheckParameter(() => Loss(term, s, t), parameter);
        }
    }
}

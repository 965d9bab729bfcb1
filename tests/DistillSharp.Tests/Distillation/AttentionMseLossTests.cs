using DistillSharp.Distillation.Encoder.Losses;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class AttentionMseLossTests
{
    static LossBatch Batch(Tensor mask) => new() { AttentionMask = mask };

    [Fact]
    public void MatchesHandValueOverRealPairsAndIsMseWithoutPadding()
    {
        using var scope = NewDisposeScope();
        var term = new AttentionMseLoss(Context(layersS: 1, layersT: 1, headsS: 1, headsT: 1), -1, -1);
        var mask = Mask([1, 1]);
        var t = D([0.25, 0.75, 0.5, 0.5], 1, 1, 2, 2);
        var s = D([0.5, 0.5, 0.5, 0.5], 1, 1, 2, 2);
        // Squared differences 1/16, 1/16, 0, 0 over 4 pairs (hand value).
        Assert.Equal(0.03125, Item(term.Compute(Output(mask, attentions: [s]), Output(mask, attentions: [t]), Batch(mask)).Loss), 12);
        // Whatever sits at a padded query or key, the loss is the same.
        var padded = Mask([1, 1, 0]);
        var t3 = D([0.25, 0.75, 0.9, 0.5, 0.5, 0.2, 0.3, 0.3, 0.4], 1, 1, 3, 3);
        var s3 = D([0.5, 0.5, 0.1, 0.5, 0.5, 0.7, 0, 0, 1], 1, 1, 3, 3);
        Assert.Equal(0.03125, Item(term.Compute(Output(padded, attentions: [s3]), Output(padded, attentions: [t3]), Batch(padded)).Loss), 12);
        // No padding: torch's mse_loss over the whole (B, heads, T, T) map, as the PyTorch peer computes it.
        var full = Mask([1, 1, 1]);
        var a = SoftmaxAttention(Randn(3, 1, 2, 3, 3), full);
        var b = SoftmaxAttention(Randn(4, 1, 2, 3, 3), full);
        var expected = nn.functional.mse_loss(a, b);
        var term2 = new AttentionMseLoss(Context(layersS: 1, layersT: 1, headsS: 2, headsT: 2), 0, 0);
        Assert.Equal(Item(expected), Item(term2.Compute(Output(full, attentions: [a]), Output(full, attentions: [b]), Batch(full)).Loss), 6);
    }
}

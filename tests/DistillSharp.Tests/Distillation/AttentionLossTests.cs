using DistillSharp.Distillation.Encoder.Losses;
using TorchSharp;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class AttentionLossTests
{
    static readonly long[][] Padded = [[1, 1, 1, 1], [1, 1, 0, 0]];

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    [Fact]
    public void ArticleWeightIsTheConstantSigmoidOfOneOverLength()
    {
        using var scope = NewDisposeScope();
        // No padding: every softmax row sums to 1 over L = 4 keys, so its mean is 1/4.
        var full = Mask([1, 1, 1, 1], [1, 1, 1, 1]);
        var w = AttentionWeightedLoss.Weight(SoftmaxAttention(Randn(1, 2, 3, 4, 4) * 3, full), Masks.Tokens(new LossBatch { AttentionMask = full }));
        Assert.Equal([2L, 3, 4, 1], w.shape);
        Assert.True(w.allclose(full_like(w, Sigmoid(1.0 / 4)), rtol: 0, atol: 1e-15));
        // Padding: padded keys have probability 0, the row mean is 1/T_padded = 1/4 again — for
        // the short sequence too, so the weight is one constant over the whole batch.
        var mask = Mask(Padded);
        var wp = AttentionWeightedLoss.Weight(SoftmaxAttention(Randn(2, 2, 3, 4, 4) * 3, mask), Masks.Tokens(new LossBatch { AttentionMask = mask }));
        Assert.True(wp.allclose(full_like(wp, Sigmoid(1.0 / 4)), rtol: 0, atol: 1e-15));
    }

    // Scalar reference: Σ over heads and real (q, k) of f(b, h, q, k), divided by the count.
    static double MeanOverRealPairs(long[][] mask, int heads, Func<int, int, int, int, double> f)
    {
        double sum = 0, count = 0;
        for (var b = 0; b < mask.Length; b++)
            for (var h = 0; h < heads; h++)
                for (var q = 0; q < mask[b].Length; q++)
                    for (var k = 0; k < mask[b].Length; k++)
                        if (mask[b][q] == 1 && mask[b][k] == 1) { sum += f(b, h, q, k); count++; }
        return sum / count;
    }

    static (Tensor S, Tensor T) Maps(int seed, long[][] padded)
    {
        var mask = Mask(padded);
        return (SoftmaxAttention(Randn(seed, 2, 2, 4, 4), mask), SoftmaxAttention(Randn(seed + 1, 2, 2, 4, 4) * 2, mask));
    }

    static Tensor Run(ILossTerm term, Tensor s, Tensor t, long[][] padded)
    {
        var mask = Mask(padded);
        return term.Compute(Output(mask, attentions: [s]), Output(mask, attentions: [t]), new LossBatch { AttentionMask = mask }).Loss;
    }

    [Fact]
    public void WeightedLossWithIdentityProjectionIsAConstantTimesMaskedMse()
    {
        using var scope = NewDisposeScope();
        // max_len 6 > T = 4: the top-left 4×4 block of the identity Linear(6, 6) is used.
        var term = new AttentionWeightedLoss(Context(layersS: 1, layersT: 1, maxLen: 6), LayerMap.Uniform, "identity");
        term.to(ScalarType.Float64);
        var (s, t) = Maps(3, Padded);
        var expected = Sigmoid(0.25) * Sigmoid(0.25) * MeanOverRealPairs(Padded, 2,
            (b, h, q, k) => Math.Pow(s[b, h, q, k].item<double>() - t[b, h, q, k].item<double>(), 2));
        Assert.Equal(expected, Item(Run(term, s, t, Padded)), 12);
    }

    [Fact]
    public void WeightedLossIgnoresPaddedRowsAndColumns()
    {
        using var scope = NewDisposeScope();
        var term = new AttentionWeightedLoss(Context(layersS: 1, layersT: 1, maxLen: 4), LayerMap.Uniform, "default");
        term.to(ScalarType.Float64);
        var (s, t) = Maps(5, Padded);
        var before = Item(Run(term, s, t, Padded));
        var s2 = s.clone(); s2[1, .., .., 2..] = Randn(6, 2, 4, 2);    // padded keys of sequence 1
        s2[1, .., 2..] = Randn(8, 2, 2, 4);                              // and its padded query rows
        var t2 = t.clone(); t2[1, .., 2..] = Randn(7, 2, 2, 4);         // teacher's padded query rows
        Assert.Equal(before, Item(Run(term, s2, t2, Padded)), 12);
    }

    [Fact]
    public void WeightedLossGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        long[][] padded = [[1, 1, 1], [1, 1, 0]];
        var term = new AttentionWeightedLoss(Context(layersS: 1, layersT: 1, maxLen: 3), LayerMap.Uniform, "default");
        term.to(ScalarType.Float64);
        var mask = Mask(padded);
        var scores = Randn(8, 2, 2, 3, 3);
        var t = SoftmaxAttention(Randn(9, 2, 2, 3, 3), mask);
        GradCheck(x => Run(term, SoftmaxAttention(x, mask), t, padded), scores);
        foreach (var p in term.parameters()) GradCheckParameter(() => Run(term, SoftmaxAttention(scores, mask), t, padded), p);
    }

    [Fact]
    public void PeakedWeightVariesWithRowEntropy()
    {
        using var scope = NewDisposeScope();
        // One head, T = 4; sequence 1 has 2 real tokens.
        var attention = D([
            1, 0, 0, 0,            // one-hot: entropy 0 → w = 1
            0.25, 0.25, 0.25, 0.25,// uniform over 4 keys: entropy ln 4 → w = 0
            0.5, 0.5, 0, 0,        // entropy ln 2 over 4 keys → w = 1 − ln 2 / ln 4 = 0.5
            0.7, 0.1, 0.1, 0.1,    // w = 1 + (0.7 ln 0.7 + 0.3 ln 0.1) / ln 4
            0.5, 0.5, 0, 0,        // sequence 1: uniform over its 2 real keys → w = 0
            0.9, 0.1, 0, 0,        // w = 1 + (0.9 ln 0.9 + 0.1 ln 0.1) / ln 2
            0.5, 0.5, 0, 0, 0.5, 0.5, 0, 0], 2, 1, 4, 4);
        var mask = Mask(Padded);
        var w = AttentionPeakedLoss.Weight(attention, Masks.Tokens(new LossBatch { AttentionMask = mask })).view(-1);
        double[] expected = [1, 0, 0.5, 1 + (0.7 * Math.Log(0.7) + 0.3 * Math.Log(0.1)) / Math.Log(4),
            0, 1 + (0.9 * Math.Log(0.9) + 0.1 * Math.Log(0.1)) / Math.Log(2)];
        for (var i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i], w[i].item<double>(), 12);
    }

    [Fact]
    public void PeakedLossMatchesScalarReferenceIgnoresPaddingAndHasCorrectGradients()
    {
        using var scope = NewDisposeScope();
        var term = new AttentionPeakedLoss(Context(layersS: 1, layersT: 1), LayerMap.Uniform);
        var (s, t) = Maps(13, Padded);
        var mask = Mask(Padded);
        var w = AttentionPeakedLoss.Weight(t, Masks.Tokens(new LossBatch { AttentionMask = mask }));
        // Reference w recomputed here in doubles from the teacher rows over real keys.
        double W(int b, int h, int q)
        {
            var n = Padded[b].Count(x => x == 1);
            var row = Enumerable.Range(0, n).Select(k => t[b, h, q, k].item<double>()).ToArray();
            return 1 + row.Where(p => p > 0).Sum(p => p * Math.Log(p)) / Math.Log(n);
        }
        var expected = MeanOverRealPairs(Padded, 2, (b, h, q, k) =>
            W(b, h, q) * Math.Pow(s[b, h, q, k].item<double>() - t[b, h, q, k].item<double>(), 2));
        Assert.Equal(expected, Item(Run(term, s, t, Padded)), 12);

        var s2 = s.clone(); s2[1, .., .., 2..] = Randn(6, 2, 4, 2).abs();
        var t2 = t.clone(); t2[1, .., 2..] = Randn(7, 2, 2, 4).abs();
        Assert.Equal(expected, Item(Run(term, s2, t2, Padded)), 12);
        GradCheck(x => Run(term, SoftmaxAttention(x, mask), t, Padded), Randn(14, 2, 2, 4, 4));
    }

    [Fact]
    public void HeadCountMismatchPointsToMiniLmRelation()
    {
        var e = Assert.Throws<DistillSharpException>(() => new AttentionPeakedLoss(Context(headsS: 2, headsT: 3), LayerMap.Uniform));
        Assert.Contains("minilm_relation", e.Message);
    }
}

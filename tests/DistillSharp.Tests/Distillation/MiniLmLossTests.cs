using DistillSharp.Distillation.Encoder.Losses;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class MiniLmLossTests
{
    static LossBatch Batch(Tensor mask) => new() { AttentionMask = mask };

    [Fact]
    public void AttentionKlMatchesHandValueAndRenormalisesOverRealKeys()
    {
        using var scope = NewDisposeScope();
        var term = new MiniLmAttentionLoss(Context(layersS: 1, layersT: 1, headsS: 1, headsT: 1), -1, -1);
        var mask = Mask([1, 1]);
        var t = D([0.25, 0.75, 0.5, 0.5], 1, 1, 2, 2);
        var s = D([0.5, 0.5, 0.5, 0.5], 1, 1, 2, 2);
        // Row 0: KL((¼, ¾) ‖ (½, ½)) = ¾ ln 1.5 − ¼ ln 2; row 1: 0. Mean over the 2 real queries.
        var expected = (0.75 * Math.Log(1.5) - 0.25 * Math.Log(2)) / 2;
        Assert.Equal(expected, Item(term.Compute(Output(mask, attentions: [s]), Output(mask, attentions: [t]), Batch(mask)).Loss), 12);

        // A third, padded token: whatever sits at the padded key or query, the loss is the same.
        var padded = Mask([1, 1, 0]);
        var t3 = D([0.25, 0.75, 0, 0.5, 0.5, 0, 0.3, 0.3, 0.4], 1, 1, 3, 3);
        var s3 = D([0.35, 0.35, 0.3, 0.45, 0.45, 0.1, 0, 0, 1], 1, 1, 3, 3);
        Assert.Equal(expected, Item(term.Compute(Output(padded, attentions: [s3]), Output(padded, attentions: [t3]), Batch(padded)).Loss), 12);
    }

    [Fact]
    public void ExactZerosAndInfiniteScoresGiveNoNaN()
    {
        using var scope = NewDisposeScope();
        var term = new MiniLmAttentionLoss(Context(layersS: 1, layersT: 1), -1, -1);
        var mask = Mask([1, 1, 0]);
        var t = SoftmaxAttention(D([50, -50, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0, 0], 1, 2, 3, 3) * 100, mask);  // exact 0s
        var s = SoftmaxAttention(Randn(1, 1, 2, 3, 3), mask);
        var loss = term.Compute(Output(mask, attentions: [s]), Output(mask, attentions: [t]), Batch(mask)).Loss;
        Assert.True(double.IsFinite(Item(loss)));
        Assert.Equal(0.0, Item(term.Compute(Output(mask, attentions: [t]), Output(mask, attentions: [t]), Batch(mask)).Loss), 12);
    }

    // Scalar reference of a relation KL: heads concatenated, split into r relation heads,
    // softmax(x xᵀ/√d_r) over real keys, KL(teacher ‖ student) averaged over relation heads and real queries.
    static double RelationKlReference(Tensor s, Tensor t, int r, long[] mask)
    {
        double[][] Relation(Tensor x, int head, int q)
        {
            var (heads, d) = ((int)x.shape[1], (int)x.shape[3]);
            var width = heads * d / r;
            double Col(int tok, int c) { var g = head * width + c; return x[0, g / d, tok, g % d].item<double>(); }
            var real = Enumerable.Range(0, mask.Length).Where(k => mask[k] == 1).ToArray();
            var scores = real.Select(k => Enumerable.Range(0, width).Sum(c => Col(q, c) * Col(k, c)) / Math.Sqrt(width)).ToArray();
            return [Softmax(scores)];
        }
        double total = 0; var count = 0;
        for (var head = 0; head < r; head++)
            for (var q = 0; q < mask.Length; q++)
                if (mask[q] == 1) { total += Kl(Relation(t, head, q)[0], Relation(s, head, q)[0]); count++; }
        return total / count;
    }

    [Fact]
    public void ValueRelationMatchesScalarReferenceAndGradients()
    {
        using var scope = NewDisposeScope();
        var term = new MiniLmValueLoss(Context(layersS: 2, layersT: 3, hiddenS: 4, hiddenT: 6, headsS: 2, headsT: 2), -1, -1, 0);
        Assert.Equal((1, 2, 2), (term.StudentLayer, term.TeacherLayer, term.RelationHeads));
        Assert.Equal([2], term.Needs.Values);
        var mask = Mask([1, 1, 0]);
        var vs = Randn(31, 1, 2, 3, 2);
        var vt = Randn(32, 1, 2, 3, 3);
        var junk = Randn(33, 1, 2, 3, 2);
        Tensor Loss(Tensor x) => term.Compute(Output(mask, values: [junk, x]), Output(mask, values: [junk, junk, vt]), Batch(mask)).Loss;
        Assert.Equal(RelationKlReference(vs, vt, 2, [1, 1, 0]), Item(Loss(vs)), 12);
        var padChanged = vs.clone(); padChanged[0, .., 2] = Randn(34, 2, 2) * 10;
        Assert.Equal(Item(Loss(vs)), Item(Loss(padChanged)), 12);
        GradCheck(Loss, vs);
    }

    [Fact]
    public void RelationLossWorksAcrossHeadCounts()
    {
        using var scope = NewDisposeScope();
        // Student 2 heads × 3 = 6 wide, teacher 3 heads × 4 = 12 wide, R = 2 relation heads.
        var ctx = new LossContext(new ModelShape(1, 6, 2, 3), new ModelShape(2, 12, 3, 3));
        var term = new MiniLmRelationLoss(ctx, -1, 0, 2, ["qq", "kk", "vv"]);
        Assert.Equal(0, term.TeacherLayer);
        Assert.Equal("queries[0] keys[0] values[0]", term.Needs.ToString());
        var mask = Mask([1, 1, 0]);
        Tensor[] S(int seed) => [Randn(seed, 1, 2, 3, 3)];
        Tensor[] T(int seed) => [Randn(seed, 1, 3, 3, 4), Randn(seed + 50, 1, 3, 3, 4)];
        var (q, k, v) = (S(41), S(42), S(43));
        var (tq, tk, tv) = (T(44), T(45), T(46));
        Tensor Loss(Tensor x) => term.Compute(Output(mask, queries: [x], keys: k, values: v),
            Output(mask, queries: tq, keys: tk, values: tv), Batch(mask)).Loss;
        var expected = RelationKlReference(q[0], tq[0], 2, [1, 1, 0]) + RelationKlReference(k[0], tk[0], 2, [1, 1, 0])
            + RelationKlReference(v[0], tv[0], 2, [1, 1, 0]);
        Assert.Equal(expected, Item(Loss(q[0])), 12);
        var padChanged = q[0].clone(); padChanged[0, .., 2] = Randn(47, 2, 3) * 10;   // the padded token's queries
        Assert.Equal(expected, Item(Loss(padChanged)), 12);
        GradCheck(Loss, q[0]);
    }

    [Fact]
    public void AttentionGradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var term = new MiniLmAttentionLoss(Context(layersS: 1, layersT: 2), 0, 1);
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var t = SoftmaxAttention(Randn(51, 2, 2, 3, 3), mask);
        GradCheck(x => term.Compute(Output(mask, attentions: [SoftmaxAttention(x, mask)]), Output(mask, attentions: [t, t]), Batch(mask)).Loss,
            Randn(52, 2, 2, 3, 3));
    }

    [Fact]
    public void BadLayersAndHeadsFailClearly()
    {
        var layer = Assert.Throws<DistillSharpException>(() => new MiniLmAttentionLoss(Context(layersS: 2), 2, -1));
        Assert.Contains("minilm_attention.layer must be in -2..1", layer.Message);
        var heads = Assert.Throws<DistillSharpException>(() => new MiniLmRelationLoss(Context(hiddenS: 4, hiddenT: 6), -1, -1, 4, ["vv"]));
        Assert.Contains("relation_heads 4 must divide the teacher's width 6", heads.Message);
        Assert.Throws<DistillSharpException>(() => new MiniLmValueLoss(Context(headsS: 2, headsT: 3, hiddenT: 6), -1, -1, 0));
    }
}

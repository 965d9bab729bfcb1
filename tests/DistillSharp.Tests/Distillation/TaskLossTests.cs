using DistillSharp.Distillation.Encoder.Losses;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class TaskLossTests
{
    static double Ce(double smoothing, Tensor logits, Tensor labels, Tensor mask) =>
        Item(new TaskCrossEntropyLoss(smoothing).Compute(Output(mask, logits: logits), Output(mask),
            new LossBatch { AttentionMask = mask, Labels = labels }).Loss);

    [Fact]
    public void CrossEntropyMatchesHandValues()
    {
        using var scope = NewDisposeScope();
        var one = Mask([1]);
        var label0 = tensor(new long[] { 0 });
        // Uniform logits over 3 classes: −log(1/3) = ln 3, with or without smoothing.
        Assert.Equal(Math.Log(3), Ce(0, D([0, 0, 0], 1, 3), label0, one), 12);
        Assert.Equal(Math.Log(3), Ce(0.2, D([0, 0, 0], 1, 3), label0, one), 12);
        // Logits (ln 2, 0) → p = (2/3, 1/3); ε = 0.3: 0.7·ln(3/2) + 0.3·(ln(3/2) + ln 3)/2.
        var expected = 0.7 * Math.Log(1.5) + 0.3 * (Math.Log(1.5) + Math.Log(3)) / 2;
        Assert.Equal(expected, Ce(0.3, D([Math.Log(2), 0], 1, 2), label0, one), 12);
    }

    [Fact]
    public void TokenCrossEntropySkipsPaddingAndIgnoredLabels()
    {
        using var scope = NewDisposeScope();
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var logits = Randn(5, 2, 3, 4);
        var labels = tensor(new long[] { 1, -100, 3, 0, 2, 1 }, [2, 3]);
        // Scalar reference over the counted tokens (0,0), (0,2), (1,0), (1,1); ε = 0.1.
        var expected = 0.0;
        foreach (var (b, i, y) in new[] { (0, 0, 1), (0, 2, 3), (1, 0, 0), (1, 1, 2) })
        {
            var p = Softmax(logits[b, i].data<double>().ToArray());
            expected += (0.9 * -Math.Log(p[y]) + 0.1 * p.Average(v => -Math.Log(v))) / 4;
        }
        Assert.Equal(expected, Ce(0.1, logits, labels, mask), 12);
        var changed = logits.clone(); changed[1, 2] = full(4, 1e6, ScalarType.Float64); changed[0, 1] = full(4, -7.0, ScalarType.Float64);
        Assert.Equal(expected, Ce(0.1, changed, labels, mask), 12);
        GradCheck(x => new TaskCrossEntropyLoss(0.1).Compute(Output(mask, logits: x), Output(mask),
            new LossBatch { AttentionMask = mask, Labels = labels }).Loss, logits);
    }

    [Fact]
    public void CrossEntropyRejectsOutOfRangeLabels()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<DistillSharpException>(() => Ce(0, D([0, 0, 0], 1, 3), tensor(new long[] { 3 }), Mask([1])));
        Assert.Contains("0..2", e.Message);
    }

    // Scalar reference of the contrastive loss: rows = anchors, columns = positives.
    static double ContrastiveReference(double[][] s, double[][] t, (int A, int P)[] pairs, double tau, double alpha, bool symmetric)
    {
        static double Cos(double[] x, double[] y) =>
            x.Zip(y, (a, b) => a * b).Sum() / Math.Sqrt(x.Sum(v => v * v) * y.Sum(v => v * v));
        double Direction(bool transpose)
        {
            var n = pairs.Length;
            var total = 0.0;
            for (var i = 0; i < n; i++)
            {
                double Score(double[][] e, int r, int c) => transpose ? Cos(e[pairs[c].A], e[pairs[r].P]) / tau : Cos(e[pairs[r].A], e[pairs[c].P]) / tau;
                var logits = Enumerable.Range(0, n).Select(j => Score(s, i, j)).ToArray();
                var logSoft = Softmax(logits).Select(v => Math.Log(v)).ToArray();
                var teacher = Softmax(Enumerable.Range(0, n).Select(j => Score(t, i, j)).ToArray());
                for (var j = 0; j < n; j++)
                    total -= ((i == j ? 1 - alpha : 0) + alpha * teacher[j]) * logSoft[j] / n;
            }
            return total;
        }
        return symmetric ? (Direction(false) + Direction(true)) / 2 : Direction(false);
    }

    [Fact]
    public void ContrastiveMatchesHandValue()
    {
        using var scope = NewDisposeScope();
        // Anchors (1,0), (0,1); positives (1,0), (1,1)/√2; τ = 0.5 → S = [[2, √2], [0, √2]].
        var pooled = D([1, 0, 0, 1, 1, 0, 1, 1], 4, 2);
        var pairs = tensor(new long[] { 0, 2, 1, 3 }, [2, 2]);
        var mask = Mask([1], [1], [1], [1]);
        var r = Math.Sqrt(2);
        var expected = (-Math.Log(Math.Exp(2) / (Math.Exp(2) + Math.Exp(r))) - Math.Log(Math.Exp(r) / (1 + Math.Exp(r)))) / 2;
        var result = new ContrastiveLoss(0.5, 0, false).Compute(Output(mask, pooled: pooled), Output(mask), new LossBatch { AttentionMask = mask, Pairs = pairs });
        Assert.Equal(expected, Item(result.Loss), 12);
        Assert.Equal(1.0, result.Scalars["contrastive/accuracy"]);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.0, true)]
    [InlineData(0.4, false)]
    [InlineData(0.4, true)]
    public void ContrastiveVariantsMatchScalarReferenceAndGradients(double alpha, bool symmetric)
    {
        using var scope = NewDisposeScope();
        var s = Randn(11, 6, 3);
        var t = Randn(12, 6, 5);
        (int, int)[] pairList = [(0, 3), (1, 4), (2, 5)];
        var pairs = tensor(pairList.SelectMany(p => new long[] { p.Item1, p.Item2 }).ToArray(), [3, 2]);
        var mask = ones(6, 1, ScalarType.Int64);
        var term = new ContrastiveLoss(0.2, alpha, symmetric);
        Assert.Equal(alpha > 0, term.Needs.Pooled);
        Tensor Loss(Tensor x) => term.Compute(Output(mask, pooled: x), Output(mask, pooled: t), new LossBatch { AttentionMask = mask, Pairs = pairs }).Loss;
        double[][] Rows(Tensor x) => Enumerable.Range(0, 6).Select(i => x[i].data<double>().ToArray()).ToArray();
        Assert.Equal(ContrastiveReference(Rows(s), Rows(t), pairList, 0.2, alpha, symmetric), Item(Loss(s)), 12);
        GradCheck(Loss, s);
    }
}

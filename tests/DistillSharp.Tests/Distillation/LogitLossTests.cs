using DistillSharp.Distillation.Divergences;
using DistillSharp.Distillation.Encoder.Losses;
using static DistillSharp.Tests.Distillation.LossTestKit;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

public class LogitLossTests
{
    static Tensor NoMask => Mask([1]);
    static LossBatch Batch(Tensor mask) => new() { AttentionMask = mask };

    static double Run(ILossTerm term, Tensor student, Tensor teacher, Tensor mask) =>
        Item(term.Compute(Output(mask, logits: student), Output(mask, logits: teacher), Batch(mask)).Loss);

    // Hand computation: teacher logits (0, ln 3) → p = (1/4, 3/4); student (0, 0) → q = (1/2, 1/2).
    static Tensor Teacher2 => D([0, Math.Log(3)], 1, 2);
    static Tensor Student2 => D([0, 0], 1, 2);

    [Fact]
    public void KlMatchesHandValueAndScalesByTSquared()
    {
        using var scope = NewDisposeScope();
        var kl = 0.75 * Math.Log(1.5) - 0.25 * Math.Log(2);                 // KL(p‖q) = 0.130812…
        Assert.Equal(kl, Run(new LogitDivergenceLoss(new ForwardKl(), 1, "kl"), Student2, Teacher2, NoMask), 12);
        // T = 2 on doubled logits gives the same p and q, so the loss is exactly T² = 4 times larger.
        Assert.Equal(4 * kl, Run(new LogitDivergenceLoss(new ForwardKl(), 2, "kl"), Student2 * 2, Teacher2 * 2, NoMask), 12);
    }

    [Fact]
    public void ReverseKlMatchesHandValue()
    {
        using var scope = NewDisposeScope();
        var rkl = 0.5 * Math.Log(2) + 0.5 * Math.Log(2.0 / 3);               // KL(q‖p) = ½ ln(4/3)
        Assert.Equal(rkl, Run(new LogitDivergenceLoss(new ReverseKl(), 1), Student2, Teacher2, NoMask), 12);
    }

    [Fact]
    public void JsdMatchesHandValueWithTeacherAsP()
    {
        using var scope = NewDisposeScope();
        // β = 0.5: M = (3/8, 5/8).
        var klPm = 0.25 * Math.Log(0.25 / 0.375) + 0.75 * Math.Log(0.75 / 0.625);
        var klQm = 0.5 * Math.Log(0.5 / 0.375) + 0.5 * Math.Log(0.5 / 0.625);
        Assert.Equal(0.5 * klPm + 0.5 * klQm, Run(new LogitDivergenceLoss(new Jsd(0.5), 1), Student2, Teacher2, NoMask), 12);
        // β = 0.9: M = 0.9 P + 0.1 Q; teacher must be P (the asymmetric β shows which side is which).
        double[] p = [0.25, 0.75], q = [0.5, 0.5];
        var m = p.Zip(q, (a, b) => 0.9 * a + 0.1 * b).ToArray();
        Assert.Equal(0.9 * Kl(p, m) + 0.1 * Kl(q, m), Run(new LogitDivergenceLoss(new Jsd(0.9), 1), Student2, Teacher2, NoMask), 12);
        Assert.NotEqual(0.9 * Kl(q, m) + 0.1 * Kl(p, m), Run(new LogitDivergenceLoss(new Jsd(0.9), 1), Student2, Teacher2, NoMask), 6);
    }

    [Fact]
    public void LogitMseMatchesHandValue()
    {
        using var scope = NewDisposeScope();
        // ((1−0)² + (2−0)²) / 2 = 2.5
        Assert.Equal(2.5, Run(new LogitMseLoss(), D([1, 2], 1, 2), D([0, 0], 1, 2), NoMask), 12);
    }

    [Fact]
    public void TokenLogitsAverageOverRealTokensOnly()
    {
        using var scope = NewDisposeScope();
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var s = Randn(1, 2, 3, 4);
        var t = Randn(2, 2, 3, 4);
        const double T = 1.5;
        // Scalar reference: mean over the 5 real tokens of T²·KL(softmax(t/T) ‖ softmax(s/T)).
        var expected = 0.0;
        foreach (var (b, i) in new[] { (0, 0), (0, 1), (0, 2), (1, 0), (1, 1) })
        {
            var zs = s[b, i].data<double>().ToArray();
            var zt = t[b, i].data<double>().ToArray();
            expected += T * T * Kl(Softmax(zt, T), Softmax(zs, T)) / 5;
        }
        var term = new LogitDivergenceLoss(new ForwardKl(), T, "kl");
        Assert.Equal(expected, Run(term, s, t, mask), 12);

        // Padded position (1, 2): any logits there, even NaN, leave every logit loss unchanged.
        var s2 = s.clone(); s2[1, 2] = full(4, double.NaN, ScalarType.Float64);
        var t2 = t.clone(); t2[1, 2] = Randn(9, 4) * 100;
        foreach (var loss in new ILossTerm[] { term, new LogitDivergenceLoss(new ReverseKl(), T), new LogitDivergenceLoss(new Jsd(0.3), T), new LogitMseLoss() })
            Assert.Equal(Run(loss, s, t, mask), Run(loss, s2, t2, mask), 12);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        using var scope = NewDisposeScope();
        var mask = Mask([1, 1, 1], [1, 1, 0]);
        var s = Randn(3, 2, 3, 4);
        var t = Randn(4, 2, 3, 4);
        foreach (var term in new ILossTerm[] { new LogitDivergenceLoss(new ForwardKl(), 2, "kl"), new LogitDivergenceLoss(new ReverseKl(), 2), new LogitDivergenceLoss(new Jsd(0.3), 2), new LogitMseLoss() })
            GradCheck(x => term.Compute(Output(mask, logits: x), Output(mask, logits: t), Batch(mask)).Loss, s);
    }

    [Fact]
    public void MismatchedShapesAndMissingLogitsFailClearly()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<DistillSharpException>(() => Run(new LogitDivergenceLoss(new ForwardKl(), 1, "kl"), D([0, 0, 0], 1, 3), Teacher2, NoMask));
        Assert.Contains("(1, 3)", e.Message);
        Assert.Contains("(1, 2)", e.Message);
        var missing = Assert.Throws<DistillSharpException>(() =>
            new LogitDivergenceLoss(new ForwardKl(), 1, "kl").Compute(Output(NoMask), Output(NoMask, logits: Teacher2), Batch(NoMask)));
        Assert.Contains("student's logits", missing.Message);
    }
}

using DistillSharp.Distillation.Divergences;
using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using DistillSharp.Tests.Distillation;
using static TorchSharp.torch;

namespace DistillSharp.Tests.LanguageModels;

public class TokenKdLossTests
{
    // Position 0: teacher logits (0, 0) → P = (1/2, 1/2); student (0, ln 3) → Q = (1/4, 3/4).
    // Position 1 is masked out and holds arbitrary logits. Golden values by hand (python math.log):
    //   KL(P‖Q) = ½ln(4/3) = 0.14384103622589042      KL(Q‖P) = ¼ln½ + ¾ln(3/2) = 0.13081203594113697
    //   JSD(½), M = (3/8, 5/8): 0.033822075568605205
    //   KL(P ‖ 0.1P + 0.9Q) = 0.11313672216156864      KL(Q ‖ 0.9P + 0.1Q) = 0.10704273641095058
    static readonly (string Name, double Expected)[] Golden =
    [
        ("forward_kl", 0.14384103622589042), ("reverse_kl", 0.13081203594113697), ("jsd", 0.033822075568605205),
        ("skew_kl", 0.11313672216156864), ("skew_reverse_kl", 0.10704273641095058),
    ];

    static Tensor Student(double scale = 1) => LossTestKit.D([0, Math.Log(3) * scale, 7, -3], 1, 2, 2);
    static Tensor TeacherLogits() => LossTestKit.D([0, 0, -5, 11], 1, 2, 2);
    static Tensor Mask() => tensor(new[] { true, false }, 1, 2);

    [Fact]
    public void DenseValuesMatchHandComputation()
    {
        using var scope = NewDisposeScope();
        foreach (var (name, expected) in Golden)
        {
            var loss = TokenKdRegistry.Create(new TokenKdSpec(name)).Compute(Student(), new DenseTeacher(TeacherLogits()), Mask());
            Assert.Equal(expected, LossTestKit.Item(loss), 12);
        }
    }

    [Fact]
    public void TemperatureDividesLogitsAndScalesByTSquared()
    {
        using var scope = NewDisposeScope();
        // At T = 2 the student logits (0, 2 ln 3) give the same Q = (1/4, 3/4): loss = 4 · KL.
        foreach (var (name, expected) in Golden)
        {
            var loss = TokenKdRegistry.Create(new TokenKdSpec(name, Temperature: 2)).Compute(Student(2), new DenseTeacher(TeacherLogits()), Mask());
            Assert.Equal(4 * expected, LossTestKit.Item(loss), 11);
        }
    }

    [Fact]
    public void CrossEntropyMatchesHandComputation()
    {
        using var scope = NewDisposeScope();
        // Q = (1/4, 3/4): target 1 → −ln ¾ = 0.2876820724517809; target 0 → ln 4 = 1.3862943611198906; mean of both.
        var logits = LossTestKit.D([0, Math.Log(3), 0, Math.Log(3), 9, 9], 1, 3, 2);
        var loss = NextTokenCrossEntropy.Compute(logits, tensor(new long[] { 1, 0, 1 }, 1, 3), tensor(new[] { true, true, false }, 1, 3));
        Assert.Equal((0.2876820724517809 + 1.3862943611198906) / 2, LossTestKit.Item(loss), 12);
    }

    [Fact]
    public void JsdEndpointsAreTheKlLimits()
    {
        using var scope = NewDisposeScope();
        double Loss(TokenKdLoss l) => LossTestKit.Item(l.Compute(Student(), new DenseTeacher(TeacherLogits()), Mask()));
        double forward = Loss(new TokenKdLoss(new ForwardKl())), reverse = Loss(new TokenKdLoss(new ReverseKl()));
        Assert.Equal(forward, Loss(new TokenKdLoss(new Jsd(0))), 12);
        Assert.Equal(reverse, Loss(new TokenKdLoss(new Jsd(1))), 12);
        // GKD: JSD(β)/β → KL(P‖Q) as β → 0 and JSD(β)/(1 − β) → KL(Q‖P) as β → 1 (error O(β)).
        Assert.Equal(forward, Loss(new TokenKdLoss(new Jsd(1e-5))) / 1e-5, 4);
        Assert.Equal(reverse, Loss(new TokenKdLoss(new Jsd(1 - 1e-5))) / 1e-5, 4);
        Assert.Equal(forward, Loss(new TokenKdLoss(new SkewKl(0, reverse: false))), 12);
        Assert.Equal(reverse, Loss(new TokenKdLoss(new SkewKl(0, reverse: true))), 12);
    }

    [Theory]
    [InlineData("forward_kl")]
    [InlineData("reverse_kl")]
    [InlineData("jsd")]
    [InlineData("skew_kl")]
    [InlineData("skew_reverse_kl")]
    [InlineData("ce")]
    public void GradientsMatchCentralDifferencesDenseAndSparse(string name)
    {
        using var scope = NewDisposeScope();
        var student = LossTestKit.Randn(3, 1, 3, 4);
        var teacherLogits = LossTestKit.Randn(4, 1, 3, 4) * 2;
        var mask = tensor(new[] { true, false, true }, 1, 3);
        if (name == "ce")
        {
            LossTestKit.GradCheck(x => NextTokenCrossEntropy.Compute(x, tensor(new long[] { 0, 1, 3 }, 1, 3), mask), student);
            return;
        }
        var loss = TokenKdRegistry.Create(new TokenKdSpec(name, Temperature: 1.5, Beta: 0.3, Alpha: 0.2));
        LossTestKit.GradCheck(x => loss.Compute(x, new DenseTeacher(teacherLogits), mask), student);
        LossTestKit.GradCheck(x => loss.Compute(x, SparseTeacher.FromLogits(teacherLogits, 2, 1.5), mask), student);
    }

    [Fact]
    public void MaskedPositionsHaveNoValueAndZeroGradient()
    {
        using var scope = NewDisposeScope();
        var teacher = new DenseTeacher(LossTestKit.Randn(5, 1, 3, 4));
        var mask = tensor(new[] { true, false, true }, 1, 3);
        foreach (string name in DivergenceRegistry.All.Keys)
        {
            var loss = TokenKdRegistry.Create(new TokenKdSpec(name));
            var a = LossTestKit.Randn(6, 1, 3, 4).requires_grad_(true);
            var b = a.detach().clone();
            b[0, 1] = b[0, 1] * 100 + 50;                                    // change only the masked position
            var la = loss.Compute(a, teacher, mask);
            Assert.Equal(LossTestKit.Item(la), LossTestKit.Item(loss.Compute(b, teacher, mask)), 12);
            var grad = autograd.grad([la], [a])[0];
            Assert.Equal(0.0, LossTestKit.Item(grad[0, 1].abs().sum()));
            Assert.True(LossTestKit.Item(grad[0, 0].abs().sum()) > 0);
        }
    }

    [Fact]
    public void RegistryRejectsUnknownNamesAndBadOptions()
    {
        var e = Assert.Throws<DistillSharpException>(() => TokenKdRegistry.Create(new TokenKdSpec("kl2")));
        Assert.Contains("forward_kl, kl, reverse_kl, jsd, skew_kl, skew_reverse_kl", e.Message);
        Assert.Contains("1.5", Assert.Throws<DistillSharpException>(() => new TokenKdLoss(new Jsd(1.5))).Message);
        Assert.Contains("alpha 1", Assert.Throws<DistillSharpException>(() => new TokenKdLoss(new SkewKl(1, reverse: false))).Message);
        Assert.Contains("temperature 0", Assert.Throws<DistillSharpException>(() => new TokenKdLoss(new ForwardKl(), 0)).Message);
    }
}

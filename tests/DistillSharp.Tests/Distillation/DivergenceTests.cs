using DistillSharp.Distillation.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Distillation.Divergences;
using DistillSharp.Distillation.Encoder.Losses;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Distillation;

/// <summary>The encoder's logit losses and the decoders' token KD are one divergence library: same names, same ranges, same numbers.</summary>
public class DivergenceTests
{
    [Fact]
    public void BothFamiliesOfferEveryDivergenceUnderTheSameName()
    {
        foreach (string name in DivergenceRegistry.All.Keys)
        {
            Assert.True(LossRegistry.All.ContainsKey(name), name);
            Assert.Equal(name, TokenKdRegistry.Create(new TokenKdSpec(name)).Name);
        }
    }

    [Theory]
    [InlineData("forward_kl", 0.5, 0.1)]
    [InlineData("kl", 0.5, 0.1)]
    [InlineData("reverse_kl", 0.5, 0.1)]
    [InlineData("jsd", 0.0, 0.1)]
    [InlineData("jsd", 0.3, 0.1)]
    [InlineData("jsd", 1.0, 0.1)]
    [InlineData("skew_kl", 0.5, 0.25)]
    [InlineData("skew_reverse_kl", 0.5, 0.25)]
    public void ALogitLossOnOneTokenEqualsTokenKdOnIt(string name, double beta, double alpha)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var student = randn(2, 1, 7) * 2;                       // (B, T = 1, V)
        var teacher = randn(2, 1, 7) * 2;
        var mask = ones(2, 1, dtype: ScalarType.Int64);
        const double T = 1.7;
        var definition = LossRegistry.Get(name);
        var options = new List<(string, object)> { ("temperature", T) };
        if (definition.Keys.Contains("beta")) options.Add(("beta", beta));
        if (definition.Keys.Contains("alpha")) options.Add(("alpha", alpha));
        var logit = definition.Build(new LossContext(new(1, 4, 1, 8), new(1, 4, 1, 8)), [.. options]);
        double encoder = LossTestKit.Item(logit.Compute(LossTestKit.Output(mask, logits: student), LossTestKit.Output(mask, logits: teacher),
            new LossBatch { AttentionMask = mask }).Loss);
        var kd = TokenKdRegistry.Create(new TokenKdSpec(name, T, beta, alpha));
        double decoder = LossTestKit.Item(kd.Compute(student, new DenseTeacher(teacher), mask.gt(0)));
        Assert.Equal(decoder, encoder, 6);
    }

    [Fact]
    public void RangesAreTheSameInBothFamilies()
    {
        Assert.Contains("[0, 1]", Assert.Throws<DistillSharp.Config.Yaml.ConfigException>(() => LossRegistry.Get("jsd").Settings(("beta", 1.5))).Message);
        Assert.Contains("[0, 1]", Assert.Throws<DistillSharpException>(() => TokenKdRegistry.Create(new TokenKdSpec("jsd", Beta: 1.5))).Message);
        Assert.Contains("[0, 1)", Assert.Throws<DistillSharp.Config.Yaml.ConfigException>(() => LossRegistry.Get("skew_kl").Settings(("alpha", 1.0))).Message);
        Assert.Contains("[0, 1)", Assert.Throws<DistillSharpException>(() => TokenKdRegistry.Create(new TokenKdSpec("skew_kl", Alpha: 1.0))).Message);
    }
}

using DistillSharp.Quantization;

namespace DistillSharp.Tests.Quantization;

public class QuantizeConfigTests
{
    [Fact]
    public void ParsesCanonicalKeys()
    {
        var c = QuantizeConfig.FromYaml("""
            weight_bits: 4
            activation_bits: 8
            scheme: asymmetric
            observer: entropy
            per_channel: true
            qat: true
            mode: static
            calib_batches: 8
            freeze_observers_after: 100
            """);
        Assert.Equal((4, 8, "asymmetric", "entropy", true, 8, (int?)100), (c.WeightBits, c.ActivationBits, c.Scheme, c.Observer, c.Qat, c.CalibBatches, c.FreezeObserversAfter));
        Assert.False(c.ToPtqOptions().ActivationSymmetric);
    }

    [Fact]
    public void AcceptsTheArticleAliases()
    {
        var c = QuantizeConfig.FromYaml("{ activation_bit: 8, weight_bit: 8, quant_method: symmetric, observer_type: percentile, percentile: 99.9 }");
        Assert.Equal((8, 8, "symmetric", "percentile", 99.9), (c.ActivationBits, c.WeightBits, c.Scheme, c.Observer, c.Percentile));
    }

    [Theory]
    [InlineData("observer: kl", "quantize.observer", "minmax, moving_average_minmax, percentile, mse, entropy")]
    [InlineData("observer_type: kl", "quantize.observer", "entropy")]
    [InlineData("weight_bits: 6", "quantize.weight_bits", "8, 4")]
    [InlineData("scheme: affine", "quantize.scheme", "symmetric, asymmetric")]
    [InlineData("mode: lazy", "quantize.mode", "static, dynamic")]
    [InlineData("percentile: 101", "quantize.percentile", "(0, 100]")]
    [InlineData("calib_batches: 0", "quantize.calib_batches", "≥ 1")]
    [InlineData("qat: maybe", "quantize.qat", "true, false")]
    [InlineData("bits: 8", "quantize.bits", "known keys")]
    [InlineData("{ weight_bit: 8, weight_bits: 8 }", "quantize.weight_bits", "same setting")]
    public void BadValuesNameThePathAndTheAllowedValues(string yaml, string path, string allowed)
    {
        var e = Assert.Throws<DistillSharpException>(() => QuantizeConfig.FromYaml(yaml));
        Assert.Contains(path, e.Message);
        Assert.Contains(allowed, e.Message);
    }

    [Fact]
    public void ValidateUsesTheGivenPath()
    {
        var e = Assert.Throws<DistillSharpException>(() => new QuantizeConfig { Observer = "x" }.Validate("stages[1].quantize"));
        Assert.StartsWith("stages[1].quantize.observer", e.Message);
    }
}

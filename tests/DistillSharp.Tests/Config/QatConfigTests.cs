using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Config.Encoder;
using DistillSharp.Quantization;

namespace DistillSharp.Tests.Config;

/// <summary>The <c>qat:</c> block of a stage: binding, round trip, and errors that name the YAML path.</summary>
public class QatConfigTests
{
    const string Head = "teacher: { source: builtin:all-MiniLM-L6-v2 }\nstages:\n  - { name: a, steps: 10, losses: { kl: 1.0 } }\n";

    static string WithQatStage(string qat, string tail = "") =>
        Head + $"  - {{ name: b, steps: 20, losses: {{ embedding_cosine: 1.0 }}, qat: {qat} }}\n" + tail;

    static string Error(string yaml) => Assert.Throws<ConfigException>(() => ConfigLoader.Parse<RunConfig>(yaml)).Message;

    [Fact]
    public void BindsEveryKeyAndRoundTrips()
    {
        var config = ConfigLoader.Parse<RunConfig>(WithQatStage("{ learn_ranges: ema, observer: percentile, freeze_observers_after: 15, momentum: 0.9, calib_batches: 3 }",
            "quantize: { mode: static, qat: true }\n"));
        Assert.Null(config.Stages[0].Qat);
        Assert.Equal(new QatConfig("ema", "percentile", 15, 0.9, 3), config.Stages[1].Qat);
        var again = ConfigLoader.Parse<RunConfig>(config.ToYaml());
        Assert.Equal(config.Stages[1].Qat, again.Stages[1].Qat);
    }

    [Fact]
    public void DefaultsAreEmaWithoutObserver()
    {
        var qat = ConfigLoader.Parse<RunConfig>(WithQatStage("{}")).Stages[1].Qat;
        Assert.Equal(new QatConfig(), qat);
        Assert.Equal("ema", qat!.LearnRanges);
        Assert.Null(qat.Observer);
    }

    [Theory]
    [InlineData("{ learn_ranges: adaround }", "stages[1].qat.learn_ranges must be one of ema, lsq, got 'adaround'")]
    [InlineData("{ observer: kl }", "stages[1].qat.observer is 'kl'; known observers: minmax, moving_average_minmax, percentile, mse, entropy")]
    [InlineData("{ freeze: 3 }", "stages[1].qat.freeze: unknown key 'freeze'; valid keys: learn_ranges, observer, freeze_observers_after, momentum, calib_batches")]
    [InlineData("{ learn_ranges: lsq, freeze_observers_after: 5 }",
        "stages[1].qat.freeze_observers_after applies to learn_ranges: ema only (LSQ scales train with the weights), got 5 with learn_ranges: lsq")]
    [InlineData("{ freeze_observers_after: 20 }", "stages[1].qat.freeze_observers_after must be below the stage's steps (20), got 20")]
    [InlineData("{ freeze_observers_after: -1 }", "stages[1].qat.freeze_observers_after must be >= 0, got -1")]
    [InlineData("{ momentum: 1 }", "stages[1].qat.momentum must be in [0, 1), got 1")]
    [InlineData("{ calib_batches: 4 }", "stages[1].qat.calib_batches is set but no observer is; name one (e.g. observer: percentile) or drop calib_batches")]
    public void BadQatKeysNameTheirPath(string qat, string expected) => Assert.Equal(expected, Error(WithQatStage(qat)));

    [Fact]
    public void OnlyTheLastStageMayTrainQuantized()
    {
        var yaml = "teacher: { source: builtin:all-MiniLM-L6-v2 }\nstages:\n" +
            "  - { name: a, steps: 10, losses: { kl: 1.0 }, qat: {} }\n  - { name: b, steps: 10, losses: { kl: 1.0 } }\n";
        Assert.Equal("stages[0].qat is allowed on the last stage only (stages[1]); a later float stage would undo what QAT learned", Error(yaml));
    }

    [Fact]
    public void QatNeedsStaticActivations() =>
        Assert.Equal("stages[1].qat needs quantize.mode: static (QAT learns static per-tensor activation ranges), got quantize.mode: dynamic",
            Error(WithQatStage("{}", "quantize: { mode: dynamic }\n")));

    [Fact]
    public void QuantizeQatTrueGivesTheLastStageTheDefaultBlock()
    {
        var config = ConfigLoader.Parse<RunConfig>(Head + "  - { name: b, steps: 5, losses: { kl: 1.0 } }\nquantize: { qat: true }\n");
        Assert.Null(config.Stages[0].Qat);
        Assert.Equal(new QatConfig(), config.Stages[1].Qat);
    }

    [Fact]
    public void QuantizeQatFalseContradictsAStageBlock() =>
        Assert.Equal("stages[1].qat is set but quantize.qat is false; drop one of them", Error(WithQatStage("{}", "quantize: { qat: false }\n")));

    [Fact]
    public void FreezeInTheQuantizeSectionPointsToTheStage() =>
        Assert.Equal("quantize.freeze_observers_after is a stage setting: QAT runs in a stage, so set stages[1].qat.freeze_observers_after (counted in that stage's steps)",
            Error(WithQatStage("{}", "quantize: { freeze_observers_after: 5 }\n")));
}

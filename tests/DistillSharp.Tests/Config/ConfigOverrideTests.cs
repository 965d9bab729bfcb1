using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Config.Encoder;

namespace DistillSharp.Tests.Config;

public class ConfigOverrideTests
{
    const string Yaml = """
        teacher: { source: builtin:all-MiniLM-L6-v2 }
        stages:
          - { name: a, steps: 10, losses: { kl: 1.0 }, optimizer: { lr: 1e-4 } }
          - { name: b, epochs: 1, losses: { ce: 1.0 } }
        """;

    [Fact]
    public void OverridesReplaceAndCreateValuesBeforeBinding()
    {
        var c = ConfigLoader.Parse<RunConfig>(Yaml, ["stages[0].optimizer.lr=3e-5", "data.batch=32", "stages[1].optimizer.betas=[0.9, 0.98]",
            "stages[0].losses.kl.temperature=2", "stages[1].losses.contrastive={ weight: 0.5, teacher_mix: 0.2 }", "seed = 7"]);
        Assert.Equal(3e-5, c.Stages[0].Optimizer.Lr);
        Assert.Equal(32, c.Data.Batch);
        Assert.Equal((0.9, 0.98), (c.Stages[1].Optimizer.Beta1, c.Stages[1].Optimizer.Beta2));
        // "kl: 1.0" was a bare weight: setting an option under it keeps the weight.
        Assert.Equal((1.0, 2.0), (c.Stages[0].Losses[0].Weight, c.Stages[0].Losses[0].Settings.Double("temperature")));
        Assert.Equal(0.2, c.Stages[1].Losses[1].Settings.Double("teacher_mix"));
        Assert.Equal(7, c.Seed);
    }

    [Theory]
    [InlineData("stages[2].optimizer.lr=1", "stages[2] does not exist: stages has 2 item(s)")]
    [InlineData("stages[0].optimizer.lr=-1", "stages[0].optimizer.lr must be > 0, got -1")]
    [InlineData("data.batchh=32", "data.batchh: unknown key 'batchh'; valid keys: corpus, max_len, batch, augment")]
    [InlineData("stages[0].name.x=1", "stages[0].name is 'a', so --set cannot set 'x' under it")]
    [InlineData("teacher[0]=1", "teacher is a mapping, not a list, so --set cannot index it with [0]")]
    [InlineData("stages[0].losses.kl.temperature=[", "stages[0].losses.kl.temperature (from --set) has a value that is not valid YAML")]
    public void OverrideErrorsNameThePath(string assignment, string expected) =>
        Assert.StartsWith(expected, Assert.Throws<ConfigException>(() => ConfigLoader.Parse<RunConfig>(Yaml, [assignment])).Message);

    [Theory]
    [InlineData("lr")]
    [InlineData("=3")]
    [InlineData("stages[x].lr=3")]
    [InlineData("stages..lr=3")]
    public void MalformedAssignmentsExplainTheSyntax(string assignment) =>
        Assert.Contains("--set", Assert.Throws<DistillSharpException>(() => ConfigLoader.Parse<RunConfig>(Yaml, [assignment])).Message);
}

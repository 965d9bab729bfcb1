using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Pipeline;

namespace DistillSharp.Tests.Pipeline;

public class DefaultConfigTests
{
    [Fact]
    public void EmbeddedDefaultIsTheRepositoryFileAndValid()
    {
        string repoFile = Path.Combine(DistillSharp.Tests.Config.RepoPaths.Root(), "configs", "default.yaml");
        Assert.Equal(File.ReadAllText(repoFile), DefaultConfig.Yaml);
        var config = ConfigLoader.Parse(DefaultConfig.Yaml);
        Assert.Equal("builtin:all-MiniLM-L6-v2", config.Teacher.Source);
        Assert.Equal(2, config.Stages.Count);
        Assert.Equal(0.98, config.Stages[0].Optimizer.Beta2);
        Assert.True(config.Stages[1].Accumulate > 1);
    }
}

using DistillSharp.Config;
using DistillSharp.Config.Encoder;

namespace DistillSharp.Tests.Pipeline;

public class DefaultConfigTests
{
    [Fact]
    public void EmbeddedDefaultIsTheRepositoryFileAndValid()
    {
        string repoFile = Path.Combine(DistillSharp.Tests.Config.RepoPaths.Root(), "configs", "default.yaml");
        Assert.Equal(File.ReadAllText(repoFile), BuiltinConfigs.Default);
        var config = ConfigLoader.Parse<RunConfig>(BuiltinConfigs.Default);
        Assert.Equal("builtin:all-MiniLM-L6-v2", config.Teacher.Source);
        Assert.Equal(2, config.Stages.Count);
        Assert.Equal(0.98, config.Stages[0].Optimizer.Beta2);
        Assert.True(config.Stages[1].Accumulate > 1);
    }
}

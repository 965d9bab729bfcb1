using DistillSharp.Config;
using DistillSharp.Config.Encoder;

namespace DistillSharp.Tests.Config;

/// <summary>Every YAML file in the repository's configs/ folder loads and validates.</summary>
public class ShippedConfigTests
{
    static string RepoRoot() => RepoPaths.Root();

    public static TheoryData<string> ConfigFiles()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(RepoRoot(), "configs"), "*.y*ml").Order())
            if (DistillSharp.Config.ConfigKinds.OfText(File.ReadAllText(f), f) == "encoder") // kind: lm files: Pipeline/LmConfigTests
                data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void TheConfigsFolderIsNotEmpty() => Assert.NotEmpty(ConfigFiles());

    [Theory]
    [MemberData(nameof(ConfigFiles))]
    public void LoadsValidatesAndRoundTrips(string file)
    {
        var config = ConfigLoader.Load<RunConfig>(Path.Combine(RepoRoot(), "configs", file));
        Assert.NotEmpty(config.Stages);
        Assert.Equal(config.ToYaml(), ConfigLoader.Parse<RunConfig>(config.ToYaml()).ToYaml());
    }

    [Fact]
    public void SeedRecipeHasTheArticlesHyperparameters()
    {
        var c = ConfigLoader.Load<RunConfig>(Path.Combine(RepoRoot(), "configs", "seed-recipe.yaml"));
        var (align, task) = (c.Stages[0], c.Stages[1]);
        Assert.Equal(("align", 80000, 2048), (align.Name, align.Steps!.Value, align.BatchSize(c.Data.Batch)));
        Assert.Equal("kl", Assert.Single(align.Losses).Name);
        Assert.Equal(("cosine", 3e-5, 0.9, 0.98), (align.Schedule.Name, align.Optimizer.Lr, align.Optimizer.Beta1, align.Optimizer.Beta2));
        Assert.Equal(("task", "ce", 4, 8192), (task.Name, Assert.Single(task.Losses).Name, task.Accumulate, task.EffectiveBatch(c.Data.Batch)));
        Assert.Equal(("adamw", 0.9, 0.98), (task.Optimizer.Name, task.Optimizer.Beta1, task.Optimizer.Beta2));
        Assert.Equal("percentile", c.Quantize["observer"]);
        Assert.True(c.CheckpointActivations);
    }
}

using DistillSharp.Tests.Robustness.Generators;

namespace DistillSharp.Tests.Robustness;

/// <summary>Every generator of the robustness suite, by category (add a row for a new input format).</summary>
public static class BadInputGenerators
{
    /// <summary>Category → generator.</summary>
    public static readonly IReadOnlyDictionary<string, IBadInputGenerator> All = new IBadInputGenerator[]
    {
        new SafetensorsCases(),
        new ModelConfigCases(),
        new TokenizerCases(),
        new Int8FolderCases(),
        new OnnxCases(),
        new CorpusCases(),
        new CliArgumentCases(),
        new OutputPathCases(),
        new RunConfigCases(),
        new CheckpointCases(),
    }.ToDictionary(g => g.Category);
}

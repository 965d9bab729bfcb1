using DistillSharp.Config;
using DistillSharp.Config.Classifier;

namespace DistillSharp.Tests.Config;

/// <summary>kind: classify configs: the shipped ones load and round-trip; every mistake is one error naming its key.</summary>
public sealed class ClassifyConfigTests
{
    public static TheoryData<string> ClassifyConfigs()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Path.Combine(RepoPaths.Root(), "configs"), "*.y*ml").Order())
            if (ConfigKinds.OfText(File.ReadAllText(f), f) == ConfigKinds.Classify) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void IntentAndSpamShip() =>
        Assert.Equal(["intent.yaml", "spam.yaml"], Directory.GetFiles(Path.Combine(RepoPaths.Root(), "configs"), "*.yaml").Order()
            .Where(f => ConfigKinds.OfText(File.ReadAllText(f), f) == ConfigKinds.Classify).Select(f => Path.GetFileName(f)));

    [Theory]
    [MemberData(nameof(ClassifyConfigs))]
    public void LoadsValidatesAndRoundTrips(string file)
    {
        var config = ConfigLoader.Load<ClassifyRunConfig>(Path.Combine(RepoPaths.Root(), "configs", file));
        Assert.Equal("builtin:all-MiniLM-L6-v2", config.Teacher.Base);
        Assert.Equal(["align", "task"], config.Stages.Select(s => s.Name));
        Assert.Contains(config.Stages[1].Losses, l => l.Name == "ce");
        Assert.Equal((0.9, 0.98), (config.Stages[0].Optimizer.Beta1, config.Stages[0].Optimizer.Beta2));
        string yaml = ConfigWriter.Write(config);
        Assert.Equal(yaml, ConfigWriter.Write(ConfigLoader.Parse<ClassifyRunConfig>(yaml)));
    }

    const string Minimal = """
        kind: classify
        data: { source: wordnet-categories, max_train: 100, unlabelled: rest }
        teacher: { base: builtin:all-MiniLM-L6-v2, finetune: { steps: 5 } }
        student: { layers: 1, from: base }
        stages:
          - { name: s, steps: 2, losses: { kl: 1.0, ce: 0.5 } }
        """;

    [Fact]
    public void FineTuneDefaultsToCrossEntropy()
    {
        var config = ConfigLoader.Parse<ClassifyRunConfig>(Minimal);
        Assert.Equal("finetune", config.Teacher.FineTune!.Name);
        Assert.Equal("ce", Assert.Single(config.Teacher.FineTune.Losses).Name);
        Assert.True(config.Baseline);
        var baseline = config.BaselinePlan(s => s.Steps!.Value);
        Assert.Equal(("baseline_ce/s", 2, "ce"), (baseline.Stages[0].Name, baseline.Stages[0].Steps!.Value, Assert.Single(baseline.Stages[0].Losses).Name));
    }

    public static TheoryData<string, string> Mistakes => new()
    {
        { "data: { source: wordnet-categories, max_train: 100, unlabelled: rest, colour: red }", "data.colour: unknown key 'colour'; valid keys: source, labels" },
        { "data: { source: wordnet-categories, unlabelled: rest }", "data.unlabelled is 'rest'" },
        { "data: { source: wordnet-categories, labels: [a, b] }", "data.labels is for .csv/.jsonl files" },
        { "data: { source: mine.csv, labels: [a, a] }", "data.labels names 'a' twice" },
        { "data: { source: wordnet-categories, unlabelled: notes.docx }", "data.unlabelled must be none, rest or a" },
        { "teacher: { source: some/folder, base: builtin:all-MiniLM-L6-v2 }", "teacher must set exactly one of source" },
        { "teacher: { base: builtin:all-MiniLM-L6-v2 }", "teacher.finetune is required with teacher.base" },
        { "teacher: { base: builtin:nope, finetune: { steps: 5 } }", "teacher.base names an unknown built-in encoder 'builtin:nope'" },
        { "teacher: { base: builtin:all-MiniLM-L6-v2, finetune: { steps: 5, losses: { kl: 1.0 } } }", "teacher.finetune.losses.kl reads a teacher's outputs" },
        { "teacher: { source: some/folder }", "student.from is 'base'" },
        { "student: { layers: 1, from: elsewhere }", "student.from must be one of base, teacher" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void MistakesNameTheirKey(string replace, string message)
    {
        string section = replace[..replace.IndexOf(':')];
        var lines = Minimal.Split('\n').Select(l => l.StartsWith(section + ":") ? replace : l);
        var e = Assert.Throws<DistillSharpException>(() => ConfigLoader.Load<ClassifyRunConfig>(Write(string.Join('\n', lines))));
        Assert.True(e.Message.Contains(message), e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void QatStagesAreRejected()
    {
        var e = Assert.Throws<DistillSharpException>(() => ConfigLoader.Load<ClassifyRunConfig>(
            Write(Minimal.Replace("losses: { kl: 1.0, ce: 0.5 } }", "losses: { kl: 1.0 }, qat: {} }") + "\nquantize: { mode: static }")));
        Assert.Contains("stages[0].qat is not supported for classifiers", e.Message);
    }

    [Fact]
    public void ClassWeightsOfTheStudentsCeAreTheBaselinesAndBadOnesNameTheirKey()
    {
        var config = ConfigLoader.Parse<ClassifyRunConfig>(Minimal.Replace("ce: 0.5", "ce: { weight: 0.5, class_weights: balanced }"));
        var ce = Assert.Single(config.BaselinePlan(s => s.Steps!.Value).Stages[0].Losses);
        Assert.Equal(("ce", 1.0, "balanced"), (ce.Name, ce.Weight, ce.Settings.String("class_weights")));
        string yaml = ConfigWriter.Write(config);
        Assert.Contains("class_weights: balanced", yaml);
        Assert.Equal(yaml, ConfigWriter.Write(ConfigLoader.Parse<ClassifyRunConfig>(yaml)));
        var e = Assert.Throws<DistillSharpException>(() => ConfigLoader.Load<ClassifyRunConfig>(
            Write(Minimal.Replace("ce: 0.5", "ce: { weight: 0.5, class_weights: inverse }"))));
        Assert.True(e.Message.Contains("stages[0].losses.ce.class_weights must be one of none, balanced, sqrt, got 'inverse'"), e.Message);
    }

    static string Write(string yaml)
    {
        string path = Path.Combine(Path.GetTempPath(), $"classify-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }
}

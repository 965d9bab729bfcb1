using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Config.Decoder;
using DistillSharp.Tests.Config;

namespace DistillSharp.Tests.Pipeline;

/// <summary>The kind: lm config: binding, defaults, strictness, round trip, shipped file.</summary>
public class LmConfigTests
{
    const string Minimal = """
        kind: lm
        teacher: { source: /tmp/teacher }
        student: { layers: 2, hidden: 64, heads: 2, kv_heads: 1, ffn: 128 }
        kd: { loss: jsd, beta: 0.3, train: { steps: 5 } }
        """;

    [Fact]
    public void MinimalConfigGetsDefaults()
    {
        var c = ConfigLoader.Parse<LmRunConfig>(Minimal);
        Assert.Equal("/tmp/teacher", c.Teacher.Source);
        Assert.Null(c.Teacher.Pretrain);
        Assert.Equal(["moby-dick", "sotu"], c.Data.Names);
        Assert.Equal((128, 16, 0.05), (c.Data.Block, c.Data.Batch, c.Data.Heldout));
        Assert.Equal(("jsd", 0.3, 5), (c.Kd!.Loss, c.Kd.Beta, c.Kd.Train.Steps));
        Assert.Null(c.SeqKd);
        Assert.Equal(5, c.StudentSteps);
        Assert.True(c.Scratch);
        Assert.Equal([1, 8], c.Bench.Batches);
    }

    [Fact]
    public void ShippedDefaultLoadsRoundTripsAndHasTheBriefsShapes()
    {
        var c = ConfigLoader.Load<LmRunConfig>(Path.Combine(RepoPaths.Root(), "configs", "lm-default.yaml"));
        Assert.Equal(c, ConfigLoader.Parse<LmRunConfig>(c.ToYaml()) with { }, new LmConfigYamlComparer());
        var t = c.Teacher.Pretrain!.Shape;
        Assert.Equal(("llama", 6, 384, 6, 2, true), (t.Arch, t.Layers, t.Hidden, t.Heads, t.KvHeads, t.TieEmbeddings));
        long teacherParams = t.EstimateParams(c.Tokenizer.Vocab), studentParams = c.Student.EstimateParams(c.Tokenizer.Vocab);
        Assert.True(teacherParams >= 4 * studentParams, $"teacher {teacherParams} vs student {studentParams}");
        Assert.Equal(BuiltinConfigs.LmDefault, File.ReadAllText(Path.Combine(RepoPaths.Root(), "configs", "lm-default.yaml")));
        Assert.Equal(ConfigKinds.Lm, ConfigKinds.OfText(BuiltinConfigs.LmDefault));
    }

    [Fact]
    public void EstimateParamsMatchesAHandCount()
    {
        // hidden 8, heads 2 (head 4), kv 1 → q,o 8×8 each, k,v 8×4 each = 192; SwiGLU 3×8×16 = 384;
        // two RMSNorm weights 16 → 592 per layer; embeddings 10×8 = 80 (tied); final norm 8. 80 + 2·592 + 8 = 1272.
        Assert.Equal(1272, new DecoderShape("llama", 2, 8, 2, 1, 16, true).EstimateParams(10));
    }

    [Theory]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: { layers: 1 }\nkd: {}\nbogus: 1", "bogus", "valid keys: kind, data")]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: { layers: 1, widht: 3 }\nkd: {}", "student.widht", "valid keys: arch, layers")]
    [InlineData("kind: lm\nteacher: {}\nstudent: {}\nkd: {}", "teacher", "got neither")]
    [InlineData("kind: lm\nteacher: { source: x, pretrain: {} }\nstudent: {}\nkd: {}", "teacher", "not both")]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: {}\nkd: { loss: kl_div }", "kd.loss", "forward_kl, kl, reverse_kl")]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: { hidden: 64, heads: 3 }\nkd: {}", "student.heads", "must divide student.hidden (64), got 3")]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: { heads: 4, kv_heads: 3 }\nkd: {}", "student.kv_heads", "got 3")]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: {}", "", "seqkd")]
    [InlineData("kind: lm\ndata: { corpus: [moby-dick, bible] }\nteacher: { source: x }\nstudent: {}\nkd: {}", "data.corpus[1]", "moby-dick, sotu, wordnet, got 'bible'")]
    [InlineData("kind: lm\nteacher: { source: x }\nstudent: {}\nkd: { train: { steps: 10, warmup: 11 } }", "kd.train.warmup", "in [0, steps = 10], got 11")]
    [InlineData("kind: lm\nteacher: { pretrain: { layers: 2, train: { stpes: 3 } } }\nstudent: {}\nkd: {}", "teacher.pretrain.train.stpes", "valid keys: steps")]
    public void BadInputNamesThePathAndTheAllowedValues(string yaml, string path, string fragment)
    {
        var e = Assert.ThrowsAny<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>(yaml));
        Assert.StartsWith(path, e.Message);
        Assert.Contains(fragment, e.Message);
    }

    [Fact]
    public void KindTellsThePipelinesApart()
    {
        Assert.Equal("encoder", ConfigKinds.OfText("teacher: { source: builtin:x }"));
        Assert.Equal("lm", ConfigKinds.OfText("kind: lm"));
        var e = Assert.Throws<ConfigException>(() => ConfigKinds.OfText("kind: diffusion"));
        Assert.Contains("encoder, lm", e.Message);
    }

    [Fact]
    public void OverridesAreValidatedLikeTheFile()
    {
        var c = ConfigLoader.Parse<LmRunConfig>(Minimal, ["kd.train.steps=7", "student.layers=3"]);
        Assert.Equal((7, 3), (c.Kd!.Train.Steps, c.Student.Layers));
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>(Minimal, ["kd.temperature=0"]));
    }

    /// <summary>Records holding lists compare by reference; compare their YAML instead.</summary>
    [Fact]
    public void OnPolicyKdBindsRoundTripsAndRefusesACachedTeacher()
    {
        string yaml = Minimal.Replace("kd: { loss: jsd, beta: 0.3, train: { steps: 5 } }",
            "kd: { loss: reverse_kl, top_k: 0, on_policy: { prompts: 40, new_tokens: 16, temperature: 0.9 }, train: { steps: 5 } }");
        var c = ConfigLoader.Parse<LmRunConfig>(yaml);
        Assert.Equal(new OnPolicyConfig(40, 32, 16, 0.9), c.Kd!.OnPolicy);
        Assert.Equal(c.ToYaml(), ConfigLoader.Parse<LmRunConfig>(c.ToYaml()).ToYaml());
        Assert.Contains("on_policy", c.ToYaml());
        var cached = Assert.ThrowsAny<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>(yaml.Replace("top_k: 0", "top_k: 8")));
        Assert.Contains("kd.top_k", cached.Message);
        var unknown = Assert.ThrowsAny<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>(yaml.Replace("temperature: 0.9", "temp: 0.9")));
        Assert.Contains("temp", unknown.Message);
        Assert.ThrowsAny<ConfigException>(() => ConfigLoader.Parse<LmRunConfig>(yaml.Replace("temperature: 0.9", "temperature: 0")));
    }

    sealed class LmConfigYamlComparer : IEqualityComparer<LmRunConfig>
    {
        public bool Equals(LmRunConfig? x, LmRunConfig? y) => x?.ToYaml() == y?.ToYaml();
        public int GetHashCode(LmRunConfig obj) => obj.ToYaml().GetHashCode();
    }
}

using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Config.Encoder;

namespace DistillSharp.Tests.Config;

/// <summary>Every error names the YAML path, the bad value and what is allowed.</summary>
public class ConfigErrorTests
{
    const string Head = "teacher: { source: builtin:all-MiniLM-L6-v2 }\n";
    const string Stage0 = "  - { name: a, steps: 10, losses: { kl: 1.0 } }\n";

    static string Error(string yaml, params string[] overrides) =>
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse<RunConfig>(yaml, overrides)).Message;

    static string WithStage1(string stage1) => Head + "stages:\n" + Stage0 + "  - " + stage1 + "\n";

    [Fact]
    public void UnknownLossListsTheKnownOnes() =>
        Assert.Equal($"stages[1].losses.klx: unknown loss 'klx'; known: {LossRegistry.KnownNames}",
            Error(WithStage1("{ name: b, steps: 1, losses: { klx: 1.0 } }")));

    [Theory]
    [InlineData("{ name: b, steps: 1, losses: { kl: { weight: 1, temperature: -1 } } }", "stages[1].losses.kl.temperature must be > 0, got -1")]
    [InlineData("{ name: b, steps: 1, losses: { kl: { temp: 2 } } }", "stages[1].losses.kl.temp: unknown key 'temp'; valid keys: weight, temperature")]
    [InlineData("{ name: b, steps: 1, losses: { kl: -2 } }", "stages[1].losses.kl must be >= 0, got -2")]
    [InlineData("{ name: b, steps: 1, losses: { kl: 0 } }", "stages[1].losses must give at least one loss a weight > 0, got all weights 0")]
    [InlineData("{ name: b, steps: 1, losses: { jsd: { beta: 1.5 } } }", "stages[1].losses.jsd.beta must be in [0, 1], got 1.5")]
    [InlineData("{ name: b, steps: 1, losses: { ce: { label_smoothing: hi } } }", "stages[1].losses.ce.label_smoothing must be a number, got 'hi'")]
    [InlineData("{ name: b, steps: 1, losses: { hidden_mse: { layer_map: first-2 } } }",
        "stages[1].losses.hidden_mse.layer_map must be uniform, last-K (K >= 1) or a list of [student, teacher] layer pairs, got 'first-2'")]
    [InlineData("{ name: b, steps: 1, losses: { hidden_mse: { layer_map: [[0, 1, 2]] } } }",
        "stages[1].losses.hidden_mse.layer_map[0] must be a [student, teacher] pair of layer indices >= 0, got [0, 1, 2]")]
    [InlineData("{ name: b, steps: 1, losses: { hidden_mse: { projection: never } } }",
        "stages[1].losses.hidden_mse.projection must be one of auto, always, got 'never'")]
    [InlineData("{ name: b, steps: 1, losses: { minilm_relation: { relations: [qq, qk] } } }",
        "stages[1].losses.minilm_relation.relations must be a non-empty list of distinct items from qq, kk, vv, got [qq, qk]")]
    [InlineData("{ name: b, steps: 1, losses: { matryoshka: { weight: 1, dims: [] } } }",
        "stages[1].losses.matryoshka.dims must be a non-empty list of distinct integers >= 1, got []")]
    [InlineData("{ name: b, steps: 1, losses: { matryoshka: { weight: 1, dims: [128, x] } } }",
        "stages[1].losses.matryoshka.dims[1] must be an integer, got 'x'")]
    [InlineData("{ name: b, steps: 1, losses: { matryoshka: { weight: 1, dims: [128, 0] } } }",
        "stages[1].losses.matryoshka.dims must be a non-empty list of distinct integers >= 1, got [128, 0]")]
    [InlineData("{ name: b, steps: 1, losses: { matryoshka: { weight: 1, dims: 128 } } }",
        "stages[1].losses.matryoshka.dims must be a list, got '128'")]
    [InlineData("{ name: b, steps: 1, losses: { matryoshka: { weight: 1, fit_texts: 1 } } }",
        "stages[1].losses.matryoshka.fit_texts must be an integer >= 2, got 1")]
    [InlineData("{ name: b, losses: { kl: 1 } }", "stages[1] must set exactly one of epochs and steps, got neither")]
    [InlineData("{ name: b, steps: 5, epochs: 2, losses: { kl: 1 } }", "stages[1] must set exactly one of epochs and steps, got both (epochs 2, steps 5)")]
    [InlineData("{ name: a, steps: 5, losses: { kl: 1 } }", "stages[1].name must be unique, got 'a' (also stages[0].name)")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, optimizer: { name: sgd } }", "stages[1].optimizer.name must be one of adamw, got 'sgd'")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, optimizer: { lr: 0 } }", "stages[1].optimizer.lr must be > 0, got 0")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, optimizer: { betas: [0.9, 1.0] } }", "stages[1].optimizer.betas[1] must be in [0, 1), got 1")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, optimizer: { betas: [0.9] } }", "stages[1].optimizer.betas must be a pair [beta1, beta2], got 1 values")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, optimizer: { momentum: 0.9 } }",
        "stages[1].optimizer.momentum: unknown key 'momentum'; valid keys: name, lr, betas, eps, weight_decay")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, schedule: { name: step } }", "stages[1].schedule.name must be one of cosine, linear, constant, got 'step'")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, schedule: { warmup: 2.5 } }",
        "stages[1].schedule.warmup must be a fraction of the stage in [0, 1) or a whole number of steps >= 1, got 2.5")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, accumulate: 0 }", "stages[1].accumulate must be >= 1, got 0")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, clip_grad_norm: -1 }", "stages[1].clip_grad_norm must be > 0, got -1")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, train_layers: [0, 7] }",
        "stages[1].train_layers[1] must name layers 0..2 (student.layers is 3), got '7'")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, train_layers: decoder }",
        "stages[1].train_layers must be all, embeddings, head, a layer index, encoder.layer.N, encoder.layer.A-B, or a list of these, got 'decoder'")]
    [InlineData("{ name: b, steps: 5, losses: { kl: 1 }, lr: 3e-5 }",
        "stages[1].lr: unknown key 'lr'; valid keys: name, epochs, steps, losses, optimizer, schedule, accumulate, clip_grad_norm, train_layers, batch, checkpoint_every, log_every, qat")]
    public void StageErrorsNameThePathTheValueAndTheRule(string stage1, string expected) =>
        Assert.Equal(expected, Error(WithStage1(stage1)));

    [Theory]
    [InlineData("teacher: { source: builtin:gpt5 }\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]",
        "teacher.source names an unknown built-in teacher 'builtin:gpt5'; known: builtin:all-MiniLM-L6-v2, builtin:arctic-embed-xs")]
    [InlineData("stages: [{ name: a, steps: 1, losses: { kl: 1 } }]", "teacher is required")]
    [InlineData(Head + "stages: []", "stages must list at least one stage, got an empty list")]
    [InlineData(Head + "student: { hidden: 100, heads: 12 }\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]", "student.heads must divide student.hidden (100), got 12")]
    [InlineData(Head + "student: { init: random, teacher_layers: [0, 1, 2] }\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]",
        "student.teacher_layers is only allowed with init: teacher or projection, but init is 'random'")]
    [InlineData(Head + "data: { batch: 0 }\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]", "data.batch must be >= 1, got 0")]
    [InlineData(Head + "data: { augment: { synonym: 0.1 } }\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]",
        "data.augment.synonym: unknown key 'synonym'; valid keys: synonyms")]
    [InlineData(Head + "bench: { batch: [1, 0] }\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]", "bench.batch[1] must be >= 1, got '0'")]
    [InlineData(Head + "dropout: 1.0\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]", "dropout must be in [0, 1), got 1")]
    [InlineData(Head + "quantize: 8\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]", "quantize must be a mapping, got '8'")]
    [InlineData(Head + "stage: []\nstages: [{ name: a, steps: 1, losses: { kl: 1 } }]",
        "stage: unknown key 'stage'; valid keys: kind, teacher, student, data, students, select, stages, quantize, eval, bench, output, checkpoint_activations, dropout, seed")]
    public void TopLevelErrorsNameThePath(string yaml, string expected) => Assert.Equal(expected, Error(yaml));

    [Fact]
    public void SyntaxErrorsAndNonMappingRootsAreUserErrors()
    {
        Assert.Contains("not valid YAML at line", Assert.Throws<DistillSharpException>(() => ConfigLoader.Parse<RunConfig>("teacher: [")).Message);
        Assert.Contains("top level must be a mapping", Assert.Throws<DistillSharpException>(() => ConfigLoader.Parse<RunConfig>("- 1")).Message);
    }
}

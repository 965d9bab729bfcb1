using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Distillation;

namespace DistillSharp.Tests.Config;

public class ConfigLoaderTests
{
    /// <summary>The DESIGN.md "Config sketch", with its loss names spelled as registered.</summary>
    internal const string Sketch = """
        teacher: { source: builtin:all-MiniLM-L6-v2 }
        student: { layers: 3, hidden: 384, heads: 12, ffn: 1536, init: teacher, teacher_layers: [0, 2, 5] }
        data:    { corpus: wordnet-glosses, max_len: 64, batch: 64, augment: { synonyms: 0.1 } }
        stages:
          - name: align
            epochs: 3
            losses: { embedding_mse: 1.0, hidden_mse: 1.0, attention_peaked: 0.5 }
            optimizer: { name: adamw, lr: 1e-4, betas: [0.9, 0.98], weight_decay: 0.01 }
            schedule: { name: cosine, warmup: 0.06 }
            train_layers: [embeddings, encoder.layer.0-1]
          - name: task
            epochs: 1
            losses: { kl: { weight: 1.0, temperature: 2.0 }, ce: 0.5 }
            accumulate: 4
            train_layers: all
        quantize: { weight_bits: 8, activation_bits: 8, scheme: symmetric, observer: percentile,
                    percentile: 99.99, per_channel: true, qat: true, future_option: { nested: [1, 2] } }
        eval:     [ wordnet-retrieval, spam-f1 ]
        bench:    { batch: [1, 32], seq: 64, runs: 200 }
        """;

    [Fact]
    public void BindsTheDesignSketch()
    {
        var c = ConfigLoader.Parse<RunConfig>(Sketch);
        Assert.Equal("builtin:all-MiniLM-L6-v2", c.Teacher.Source);
        Assert.Equal([0, 2, 5], c.Student.TeacherLayers!);
        Assert.Equal(0.1, c.Data.Augmentation.Synonyms);
        Assert.Equal(2, c.Stages.Count);

        var align = c.Stages[0];
        Assert.Equal(3, align.Epochs);
        Assert.Null(align.Steps);
        Assert.Equal(["embedding_mse", "hidden_mse", "attention_peaked"], align.Losses.Select(l => l.Name));
        Assert.Equal(0.5, align.Losses[2].Weight);
        Assert.Equal(LayerMap.Uniform, align.Losses[1].Settings.LayerMap("layer_map"));
        Assert.Equal(new OptimizerConfig("adamw", 1e-4, 0.9, 0.98, 1e-8, 0.01), align.Optimizer);
        Assert.Equal(0.06, align.Schedule.WarmupFraction);
        Assert.Equal(60, align.Schedule.Warmup(1000));
        Assert.True(align.TrainLayers.Trains("embeddings.word_embeddings.weight"));
        Assert.True(align.TrainLayers.Trains("encoder.layer.1.output.dense.weight"));
        Assert.False(align.TrainLayers.Trains("encoder.layer.2.output.dense.weight"));
        Assert.False(align.TrainLayers.Trains("pooler.dense.weight"));

        var task = c.Stages[1];
        Assert.Equal(2.0, task.Losses[0].Settings.Double("temperature"));
        Assert.Equal(0.5, task.Losses[1].Weight);
        Assert.Equal(0.0, task.Losses[1].Settings.Double("label_smoothing"));
        Assert.Equal(256, task.EffectiveBatch(c.Data.Batch));
        Assert.True(task.TrainLayers.All);

        Assert.Equal("99.99", c.Quantize["percentile"]);
        Assert.Equal(new List<object?> { "1", "2" }, ((IReadOnlyDictionary<string, object?>)c.Quantize["future_option"]!)["nested"]);
        Assert.Equal(["wordnet-retrieval", "spam-f1"], c.Eval);
        Assert.Equal([1, 32], c.Bench.Batches);
    }

    [Fact]
    public void MinimalConfigGetsDocumentedDefaults()
    {
        var c = ConfigLoader.Parse<RunConfig>("teacher: { source: builtin:arctic-embed-xs }\nstages: [ { name: s, steps: 10, losses: { kl: 1 } } ]");
        var s = c.Stages[0];
        Assert.Equal(new OptimizerConfig(), s.Optimizer);
        Assert.Equal(new ScheduleConfig("cosine", 0, null), s.Schedule);
        Assert.Equal(1, s.Accumulate);
        Assert.Null(s.ClipGradNorm);
        Assert.Equal(1.0, s.Losses[0].Settings.Double("temperature"));
        Assert.Equal(64, s.BatchSize(c.Data.Batch));
        Assert.Empty(c.Quantize);
        Assert.Equal(0.0, c.Dropout);
        Assert.False(c.CheckpointActivations);
        Assert.Equal("onnxruntime", c.Teacher.Engine);
    }

    [Fact]
    public void TeacherEngineIsARegistryRowAndRoundTrips()
    {
        const string Stages = "\nstages: [ { name: s, steps: 10, losses: { kl: 1 } } ]";
        var c = ConfigLoader.Parse<RunConfig>("teacher: { source: builtin:arctic-embed-xs, engine: onnxruntime }" + Stages);
        Assert.Equal("onnxruntime", c.Teacher.Engine);
        Assert.Contains("engine: onnxruntime", c.ToYaml());
        Assert.Equal(c.Teacher, ConfigLoader.Parse<RunConfig>(c.ToYaml()).Teacher);
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse<RunConfig>("teacher: { source: builtin:arctic-embed-xs, engine: onnx }" + Stages));
        Assert.Equal("teacher.engine must be one of torchsharp, onnxruntime, got 'onnx'", e.Message);
    }

    [Fact]
    public void ToYamlRoundTripsWithEveryDefaultWrittenOut()
    {
        var c = ConfigLoader.Parse<RunConfig>(Sketch, ["stages[1].losses.kl.temperature=3", "stages[0].losses.hidden_mse.layer_map=[[0, 1], [2, 5]]",
            "stages[0].schedule.warmup=500", "stages[1].clip_grad_norm=1.0"]);
        var yaml = c.ToYaml();
        Assert.Contains("layer_map: [[0, 1], [2, 5]]", yaml);
        Assert.Contains("kl: {weight: 1, temperature: 3}", yaml);
        Assert.Contains("warmup: 500", yaml);
        var again = ConfigLoader.Parse<RunConfig>(yaml);
        Assert.Equal(yaml, again.ToYaml());
        Assert.Equal(500, again.Stages[0].Schedule.WarmupSteps);
        Assert.Equal(1.0, again.Stages[1].ClipGradNorm);
        Assert.Equal(c.Stages[0].TrainLayers.Layers, again.Stages[0].TrainLayers.Layers);
    }

    [Fact]
    public void LoadsFromAFilePathAndPrefixesErrorsWithIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"distillsharp-config-{Guid.NewGuid():N}.yaml");
        try
        {
            File.WriteAllText(path, Sketch);
            Assert.Equal(2, ConfigLoader.Load<RunConfig>(path).Stages.Count);
            File.WriteAllText(path, Sketch.Replace("temperature: 2.0", "temperature: -1"));
            var e = Assert.Throws<DistillSharpException>(() => ConfigLoader.Load<RunConfig>(path));
            Assert.Equal($"{path}: stages[1].losses.kl.temperature must be > 0, got -1", e.Message);
        }
        finally { File.Delete(path); }
        Assert.Contains("does not exist", Assert.Throws<DistillSharpException>(() => ConfigLoader.Load<RunConfig>(path)).Message);
    }
}

using static DistillSharp.Config.ConfigWriter;
using DistillSharp.Distillation.Encoder.Losses;
using YamlDotNet.RepresentationModel;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Config.Encoder;

/// <summary>The YAML tree of a <see cref="RunConfig"/> (kind encoder), in the shape <see cref="ConfigBinder"/> reads.</summary>
public static class EncoderConfigWriter
{
    /// <summary>Every setting of <paramref name="c"/>, defaults spelled out.</summary>
    public static YamlMappingNode ToNode(RunConfig c)
    {
        var map = Single(c);
        if (c.Students is not { } students) return map;
        map.Children.Remove(new YamlScalarNode("student"));
        map.Children.Remove(new YamlScalarNode("stages"));
        // Every entry with its own stages spelled out, so the file reads back to the same students.
        map.Add("students", new YamlSequenceNode(students.Select(s =>
        {
            var entry = Map(("name", S(s.Name)), ("student", Student(s.Student)));
            if (!s.Student.IsStatic) entry.Add("stages", new YamlSequenceNode(s.Stages.Select(Stage)));
            return (YamlNode)entry;
        })));
        if (c.Select is { } select) map.Add("select", Map((select.Key, S(select.Value))));
        return map;
    }

    static YamlMappingNode Single(RunConfig c)
    {
        return Map(
            ("teacher", Map(("source", S(c.Teacher.Source)), ("engine", S(c.Teacher.Engine)))),
            ("student", Student(c.Student)),
            ("data", Map(("corpus", c.Data.Weights is { } w ? Map(w.Select(x => (x.Source, (YamlNode)S(x.Weight))).ToArray()) : S(c.Data.Corpus)), ("max_len", S(c.Data.MaxLen)), ("batch", S(c.Data.Batch)),
                ("augment", Map(("synonyms", S(c.Data.Augmentation.Synonyms)))))),
            ("stages", new YamlSequenceNode(c.Stages.Select(Stage))),
            ("quantize", RawYaml.ToNode(c.Quantize)),
            ("eval", YamlValues.FlowList(c.Eval)),
            ("bench", Map(("batch", YamlValues.FlowList(c.Bench.Batches)), ("seq", S(c.Bench.Seq)), ("runs", S(c.Bench.Runs)))),
            ("output", S(c.Output)),
            ("checkpoint_activations", S(c.CheckpointActivations)),
            ("dropout", S(c.Dropout)),
            ("seed", S(c.Seed)));
    }

    internal static YamlNode Student(StudentConfig s)
    {
        if (s.IsStatic)
        {
            var stat = Map(("kind", S(s.Kind)), ("dims", S(s.Dims)), ("sif_coefficient", S(s.SifCoefficient)));
            if (s.Train is { } t) stat.Add("train", Map(("steps", S(t.Steps)), ("lr", S(t.Lr)), ("batch", S(t.Batch)), ("texts", S(t.Texts)), ("contrastive", S(t.Contrastive))));
            return stat;
        }
        var map = Map(("layers", S(s.Layers)), ("hidden", S(s.Hidden)), ("heads", S(s.Heads)), ("ffn", S(s.Ffn)), ("init", S(s.Init)));
        if (s.TeacherLayers is { } tl) map.Add("teacher_layers", YamlValues.FlowList(tl));
        return map;
    }

    internal static YamlNode Stage(StageConfig s)
    {
        var map = Map(("name", S(s.Name)));
        if (s.Epochs is { } e) map.Add("epochs", S(e));
        if (s.Steps is { } n) map.Add("steps", S(n));
        if (s.Batch is { } b) map.Add("batch", S(b));
        map.Add("losses", new YamlMappingNode(s.Losses.Select(l => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(l.Name), Loss(l)))));
        var o = s.Optimizer;
        map.Add("optimizer", Map(("name", S(o.Name)), ("lr", S(o.Lr)), ("betas", YamlValues.FlowList(new[] { o.Beta1, o.Beta2 })),
            ("eps", S(o.Eps)), ("weight_decay", S(o.WeightDecay))));
        map.Add("schedule", Map(("name", S(s.Schedule.Name)),
            ("warmup", s.Schedule.WarmupSteps is { } ws ? S(ws) : S(s.Schedule.WarmupFraction))));
        map.Add("accumulate", S(s.Accumulate));
        if (s.ClipGradNorm is { } clip) map.Add("clip_grad_norm", S(clip));
        map.Add("train_layers", s.TrainLayers.ToYaml());
        map.Add("checkpoint_every", S(s.CheckpointEvery));
        map.Add("log_every", S(s.LogEvery));
        if (s.Qat is { } qat) map.Add("qat", qat.ToYaml());
        return map;
    }

    static YamlNode Loss(LossSpec spec)
    {
        var definition = LossRegistry.Get(spec.Name);
        var map = Map(("weight", S(spec.Weight)));
        foreach (var p in definition.Parameters)
            map.Add(p.Key, p.Write(spec.Settings.Values[p.Key]));
        if (definition.Parameters.Count == 0) return S(spec.Weight);
        map.Style = YamlDotNet.Core.Events.MappingStyle.Flow;
        return map;
    }
}

using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;
using YamlDotNet.RepresentationModel;
using static DistillSharp.Config.ConfigWriter;

namespace DistillSharp.Config.Classifier;

/// <summary>The YAML tree of a <see cref="ClassifyRunConfig"/>, in the shape <see cref="ClassifyConfigBinder"/> reads.</summary>
public static class ClassifyConfigWriter
{
    /// <summary>Every setting of <paramref name="c"/>, defaults spelled out.</summary>
    public static YamlMappingNode ToNode(ClassifyRunConfig c)
    {
        var d = c.Data;
        var data = Map(("source", S(d.Source)));
        if (!Data.Labelled.LabelledSources.Builtin.ContainsKey(d.Source))
        {
            data.Add("text_column", S(d.TextColumn));
            data.Add("label_column", S(d.LabelColumn));
            if (d.Labels is { } labels) data.Add("labels", YamlValues.FlowList(labels));
        }
        data.Add("dev", S(d.Dev));
        data.Add("test", S(d.Test));
        if (d.MaxTrain is { } mt) data.Add("max_train", S(mt));
        data.Add("unlabelled", S(d.Unlabelled));
        if (d.MaxUnlabelled is { } mu) data.Add("max_unlabelled", S(mu));
        data.Add("max_len", S(d.MaxLen));
        data.Add("batch", S(d.Batch));
        data.Add("split_seed", S(d.SplitSeed));
        var teacher = c.Teacher.Source is { } source ? Map(("source", S(source)))
            : Map(("base", S(c.Teacher.Base!)), ("finetune", EncoderConfigWriter.Stage(c.Teacher.FineTune!)));
        var student = (YamlMappingNode)EncoderConfigWriter.Student(c.Student);
        student.Add("from", S(c.StudentFrom));
        return Map(
            ("kind", S(ClassifyRunConfig.KindName)),
            ("data", data),
            ("teacher", teacher),
            ("student", student),
            ("stages", new YamlSequenceNode(c.Stages.Select(EncoderConfigWriter.Stage))),
            ("baseline", S(c.Baseline)),
            ("quantize", RawYaml.ToNode(c.Quantize)),
            ("bench", Map(("batch", YamlValues.FlowList(c.Bench.Batches)), ("seq", S(c.Bench.Seq)), ("runs", S(c.Bench.Runs)))),
            ("output", S(c.Output)),
            ("checkpoint_activations", S(c.CheckpointActivations)),
            ("dropout", S(c.Dropout)),
            ("seed", S(c.Seed)));
    }
}

using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;
using DistillSharp.Data;
using DistillSharp.Data.Labelled;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models.Encoder;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config.Classifier;

/// <summary>
/// Binds a <c>kind: classify</c> YAML tree to <see cref="ClassifyRunConfig"/> with the encoder
/// binder's strictness (unknown keys list the valid ones; every error names its path). The
/// student, stages and bench sections are the encoder kind's; <c>teacher.finetune</c> is one stage
/// whose name defaults to <c>finetune</c> and whose losses default to <c>{ce: 1.0}</c>.
/// </summary>
public static class ClassifyConfigBinder
{
    /// <summary>Binds the document root (which must say <c>kind: classify</c>).</summary>
    public static ClassifyRunConfig Bind(YamlNode root)
    {
        var r = new MappingReader(root, "");
        r.Choice("kind", "", ClassifyRunConfig.KindName);
        var data = BindData(new MappingReader(r.Required("data"), "data"));
        var studentReader = r.Mapping("student");
        string from = studentReader?.Choice("from", "base", ClassifyRunConfig.StudentSources) ?? "base";
        var student = studentReader is { } sr ? ConfigBinder.BindStudent(sr) : new StudentConfig();
        var teacher = BindTeacher(new MappingReader(r.Required("teacher"), "teacher"), student);
        if (from == "base" && teacher.Base is null)
            throw new ConfigException("student.from", "is 'base' (the student starts from the teacher's base encoder) but the teacher is given by teacher.source; use from: teacher");
        var stages = ConfigBinder.BindStages(r, student);
        for (int i = 0; i < stages.Count; i++)
            if (stages[i].Qat is not null)
                throw new ConfigException($"stages[{i}].qat", "is not supported for classifiers: a classify run quantizes the trained student (quantize:)");
        var config = new ClassifyRunConfig
        {
            Data = data,
            Teacher = teacher,
            Student = student,
            StudentFrom = from,
            Stages = stages,
            Baseline = r.Bool("baseline", true),
            Quantize = r.Node("quantize") is { } q ? RawYaml.Mapping(q, "quantize") : new Dictionary<string, object?>(),
            Bench = r.Mapping("bench") is { } br ? ConfigBinder.BindBench(br) : new BenchConfig(),
            Output = r.Node("output") is { } o ? ConfigBinder.NonEmpty(o, "output") : "runs/classify",
            CheckpointActivations = r.Bool("checkpoint_activations", false),
            Dropout = r.Double("dropout", 0, v => v >= 0 && v < 1, "in [0, 1)"),
            Seed = r.Int("seed", 0, v => v >= 0, ">= 0"),
        };
        r.RejectUnknown();
        return config;
    }

    static ClassifyDataConfig BindData(MappingReader r)
    {
        var d = new ClassifyDataConfig("");
        string source = ConfigBinder.NonEmpty(r.Required("source"), r.PathOf("source"));
        bool builtin = LabelledSources.Builtin.ContainsKey(source);
        IReadOnlyList<string>? labels = null;
        if (r.Node("labels") is { } l)
        {
            if (builtin) throw new ConfigException(r.PathOf("labels"), $"is for .csv/.jsonl files; the built-in dataset '{source}' has its own labels");
            labels = YamlValues.Items(l, r.PathOf("labels")).Select(x => ConfigBinder.NonEmpty(x.Node, x.Path)).ToList();
            if (labels.Count < 2) throw new ConfigException(r.PathOf("labels"), $"must list at least 2 labels, got {labels.Count}");
            var twice = labels.GroupBy(x => x).FirstOrDefault(g => g.Count() > 1);
            if (twice is not null) throw new ConfigException(r.PathOf("labels"), $"names '{twice.Key}' twice");
        }
        if (builtin && (r.Node("text_column") is not null || r.Node("label_column") is not null))
            throw new ConfigException(r.PathOf(r.Node("text_column") is not null ? "text_column" : "label_column"),
                $"is for .csv/.jsonl files; the built-in dataset '{source}' has no columns");
        string text = r.Node("text_column") is { } t ? ConfigBinder.NonEmpty(t, r.PathOf("text_column")) : d.TextColumn;
        string label = r.Node("label_column") is { } lc ? ConfigBinder.NonEmpty(lc, r.PathOf("label_column")) : d.LabelColumn;
        double dev = r.Double("dev", d.Dev, v => v > 0 && v < 0.5, "in (0, 0.5)");
        double test = r.Double("test", d.Test, v => v > 0 && v < 0.5, "in (0, 0.5)");
        int? maxTrain = r.OptionalInt("max_train", v => v >= 1, ">= 1");
        string unlabelled = r.Node("unlabelled") is { } u ? ConfigBinder.NonEmpty(u, r.PathOf("unlabelled")) : d.Unlabelled;
        if (unlabelled == "rest" && maxTrain is null)
            throw new ConfigException(r.PathOf("unlabelled"), "is 'rest' (the training texts beyond the labelled budget) but data.max_train is not set, so there are none");
        if (unlabelled is not ("none" or "rest") && !TextSource.Extensions.Contains(Path.GetExtension(unlabelled).ToLowerInvariant()))
            throw new ConfigException(r.PathOf("unlabelled"), $"must be none, rest or a {string.Join("/", TextSource.Extensions)} file, got '{unlabelled}'");
        var config = new ClassifyDataConfig(source, text, label, labels, dev, test, maxTrain, unlabelled,
            r.OptionalInt("max_unlabelled", v => v >= 1, ">= 1"),
            r.Int("max_len", d.MaxLen, v => v >= 3, ">= 3 (room for [CLS] and [SEP])"),
            r.Int("batch", d.Batch, v => v >= 1, ">= 1"),
            (ulong)r.Int("split_seed", (int)d.SplitSeed, v => v >= 0, ">= 0"));
        r.RejectUnknown();
        return config;
    }

    static ClassifyTeacherConfig BindTeacher(MappingReader r, StudentConfig student)
    {
        string? source = r.Node("source") is { } s ? ConfigBinder.NonEmpty(s, r.PathOf("source")) : null;
        string? baseEncoder = r.Node("base") is { } b ? ConfigBinder.NonEmpty(b, r.PathOf("base")) : null;
        if ((source is null) == (baseEncoder is null))
            throw new ConfigException(r.Path, source is null
                ? "must set exactly one of source (a classifier folder) and base (an encoder to fine-tune), got neither"
                : "must set exactly one of source (a classifier folder) and base (an encoder to fine-tune), got both");
        if (baseEncoder is not null && baseEncoder.StartsWith("builtin:", StringComparison.Ordinal) && !BuiltinTeachers.All.ContainsKey(baseEncoder["builtin:".Length..]))
            throw new ConfigException(r.PathOf("base"), $"names an unknown built-in encoder '{baseEncoder}'; known: {string.Join(", ", BuiltinTeachers.All.Keys.Select(k => "builtin:" + k))}");
        StageConfig? finetune = null;
        if (r.Node("finetune") is { } f)
        {
            if (source is not null) throw new ConfigException(r.PathOf("finetune"), "is for teacher.base; a teacher.source classifier is used as it is");
            finetune = BindFineTune(f, r.PathOf("finetune"), student);
        }
        else if (baseEncoder is not null) throw new ConfigException(r.PathOf("finetune"), "is required with teacher.base (how the encoder is fine-tuned on the labels)");
        r.RejectUnknown();
        return new ClassifyTeacherConfig(source, baseEncoder, finetune);
    }

    // One stage with defaults for its name and losses; nothing that reads a teacher (fine-tuning has none).
    static StageConfig BindFineTune(YamlNode node, string path, StudentConfig student)
    {
        if (node is not YamlMappingNode map) throw new ConfigException(path, $"must be a mapping (steps:, optimizer:, …), got {YamlValues.Describe(node)}");
        var withDefaults = new YamlMappingNode(map.Children);
        if (!withDefaults.Children.ContainsKey(new YamlScalarNode("name"))) withDefaults.Add("name", "finetune");
        if (!withDefaults.Children.ContainsKey(new YamlScalarNode("losses"))) withDefaults.Add("losses", new YamlMappingNode { { "ce", "1.0" } });
        var stage = StageBinder.Bind(withDefaults, path, student);
        // The labels are not loaded yet: placeholder class counts let a class-weighted ce build (only its needs are read).
        var context = new LossContext(Shape(student), Shape(student), ClassCounts: [1]);
        foreach (var loss in stage.Losses)
            if (!LossRegistry.Create(loss, context).Needs.IsEmpty)
                throw new ConfigException($"{path}.losses.{loss.Name}", "reads a teacher's outputs, and fine-tuning has no teacher; use ce");
        if (stage.Qat is not null) throw new ConfigException($"{path}.qat", "is not supported when fine-tuning a teacher");
        return stage;
    }

    static ModelShape Shape(StudentConfig s) => new(s.Layers, s.Hidden, s.Heads, 512);
}

using DistillSharp.Data;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Models.Encoder;
using DistillSharp.Models.Static;
using YamlDotNet.RepresentationModel;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Export.Encoder;
using DistillSharp.Config.Yaml;
using DistillSharp.Quantization;

namespace DistillSharp.Config.Encoder;

/// <summary>
/// Binds a YAML node tree to <see cref="RunConfig"/> by hand: every key is read through a
/// <see cref="MappingReader"/>, so unknown keys fail with the list of valid ones, and every check
/// names the path, the bad value and what is allowed. Stages are bound by <see cref="StageBinder"/>.
/// </summary>
public static class ConfigBinder
{
    /// <summary>Binds the document root.</summary>
    public static RunConfig Bind(YamlNode root)
    {
        var r = new MappingReader(root, "");
        r.Choice("kind", ConfigKinds.Encoder, ConfigKinds.Encoder);
        var teacher = BindTeacher(new MappingReader(r.Required("teacher"), "teacher"));
        var student = r.Mapping("student") is { } sr ? BindStudent(sr) : new StudentConfig();
        var data = r.Mapping("data") is { } dr ? BindData(dr) : new DataConfig(Augment: new AugmentConfig());
        var students = r.Node("students") is { } sn ? FrontierBinder.BindStudents(r, sn) : null;
        if (students is not null && r.Node("student") is not null)
            throw new ConfigException("student", "must be absent when students: lists the students (move it into the list)");
        var select = r.Mapping("select") is { } sel ? FrontierBinder.BindSelect(sel) : null;
        if (select is not null && students is null)
            throw new ConfigException("select", "needs a students: list to select from");
        List<StageConfig> stages = [];
        if (students is not null)
        {
            // The first student stands in for the single-student keys; the pipeline runs each entry's own view (RunConfig.ForStudent).
            (student, stages) = (students[0].Student, [.. students[0].Stages]);
        }
        else if (!student.IsStatic) stages = BindStages(r, student);
        else if (r.Node("stages") is { } stagesNode && YamlValues.Items(stagesNode, "stages").Any())
            throw new ConfigException("stages", "must be absent: a static student is built from the teacher, not trained (or use student.kind: transformer)");

        var config = new RunConfig
        {
            Teacher = teacher,
            Student = student,
            Data = data,
            Stages = stages,
            Quantize = r.Node("quantize") is { } q ? RawYaml.Mapping(q, "quantize") : new Dictionary<string, object?>(),
            Eval = r.Node("eval") is { } e ? YamlValues.Items(e, "eval").Select(x => NonEmpty(x.Node, x.Path)).ToList() : [],
            Bench = r.Mapping("bench") is { } br ? BindBench(br) : new BenchConfig(),
            Output = r.Node("output") is { } o ? NonEmpty(o, "output") : "runs/latest",
            CheckpointActivations = r.Bool("checkpoint_activations", false),
            Dropout = r.Double("dropout", 0, v => v >= 0 && v < 1, "in [0, 1)"),
            Seed = r.Int("seed", 0, v => v >= 0, ">= 0"),
            Select = select,
        };
        r.RejectUnknown();
        if (students is not null)
        {
            if (select is not null && config.Eval.FirstOrDefault(RunConfig.IsRetrievalTask) is null)
                throw new ConfigException("select", "needs a retrieval task in eval: (e.g. wordnet-retrieval): its R@10 is the quality it compares");
            var resolved = students.Select(s => s.Student.IsStatic ? s : s with { Stages = ResolveQat(s.Stages, config.Quantize) }).ToList();
            return config with { Students = resolved, Stages = resolved[0].Stages };
        }
        return student.IsStatic ? config : config with { Stages = ResolveQat(stages, config.Quantize) };
    }

    /// <summary>The required <c>stages:</c> list: at least one stage, unique names.</summary>
    internal static List<StageConfig> BindStages(MappingReader r, StudentConfig student)
    {
        var stages = YamlValues.Items(r.Required("stages"), r.PathOf("stages")).Select(x => StageBinder.Bind(x.Node, x.Path, student)).ToList();
        if (stages.Count == 0) throw new ConfigException(r.PathOf("stages"), "must list at least one stage, got an empty list");
        for (var i = 0; i < stages.Count; i++)
            if (stages.FindIndex(s => s.Name == stages[i].Name) is var first && first != i)
                throw new ConfigException($"stages[{i}].name", $"must be unique, got '{stages[i].Name}' (also stages[{first}].name)");
        return stages;
    }

    static TeacherConfig BindTeacher(MappingReader r)
    {
        var source = NonEmpty(r.Required("source"), r.PathOf("source"));
        if (source.StartsWith("builtin:", StringComparison.Ordinal) && !BuiltinTeachers.All.ContainsKey(source["builtin:".Length..]))
            throw new ConfigException(r.PathOf("source"),
                $"names an unknown built-in teacher '{source}'; known: {string.Join(", ", BuiltinTeachers.All.Keys.Select(k => "builtin:" + k))}");
        var engine = r.Choice("engine", TeacherConfig.DefaultEngine, [.. TeacherEngines.All.Keys]);
        r.RejectUnknown();
        return new TeacherConfig(source, engine);
    }

    static StaticTrainOptions BindStaticTrain(MappingReader r)
    {
        var d = new StaticTrainOptions();
        var train = new StaticTrainOptions(
            r.Int("steps", d.Steps, v => v >= 1, ">= 1"),
            r.Double("lr", d.Lr, v => v > 0, "> 0"),
            r.Int("batch", d.Batch, v => v >= 1, ">= 1"),
            r.Int("texts", d.Texts, v => v >= 1, ">= 1"),
            r.Double("contrastive", d.Contrastive, v => v >= 0, ">= 0"));
        r.RejectUnknown();
        return train;
    }

    internal static StudentConfig BindStudent(MappingReader r)
    {
        var d = new StudentConfig();
        if (r.Choice("kind", d.Kind, StudentConfig.Kinds) == StudentConfig.Static)
        {
            var dims = r.Int("dims", d.Dims, v => v >= 1, ">= 1");
            var sif = r.Double("sif_coefficient", d.SifCoefficient, v => v >= 0 && v < 1, "in [0, 1)");
            var train = r.Mapping("train") is { } t ? BindStaticTrain(t) : null;
            r.RejectUnknown();
            return d with { Kind = StudentConfig.Static, Dims = dims, SifCoefficient = sif, Train = train };
        }
        var layers = r.Int("layers", d.Layers, v => v >= 1, ">= 1");
        var hidden = r.Int("hidden", d.Hidden, v => v >= 1, ">= 1");
        var heads = r.Int("heads", d.Heads, v => v >= 1, ">= 1");
        if (hidden % heads != 0)
            throw new ConfigException(r.PathOf("heads"), $"must divide student.hidden ({hidden}), got {heads}");
        var ffn = r.Int("ffn", d.Ffn, v => v >= 1, ">= 1");
        var init = r.Choice("init", d.Init, StudentConfig.InitModes);
        IReadOnlyList<int>? teacherLayers = null;
        if (r.Node("teacher_layers") is { } tl)
        {
            var path = r.PathOf("teacher_layers");
            if (init == "random") throw new ConfigException(path, $"is only allowed with init: teacher or projection, but init is '{init}'");
            teacherLayers = YamlValues.Items(tl, path).Select(x => YamlValues.Int(x.Node, x.Path) is var v && v >= 0 ? v
                : throw new ConfigException(x.Path, $"must be a teacher layer index >= 0, got {v}")).ToList();
            if (teacherLayers.Count != layers)
                throw new ConfigException(path, $"must list one teacher layer per student layer ({layers}), got {teacherLayers.Count}");
        }
        r.RejectUnknown();
        return new StudentConfig(layers, hidden, heads, ffn, init, teacherLayers);
    }

    static DataConfig BindData(MappingReader r)
    {
        var d = new DataConfig();
        IReadOnlyList<SourceWeight>? weights = r.Node("corpus") is YamlMappingNode m ? BindWeights(new MappingReader(m, r.PathOf("corpus"))) : null;
        var corpus = weights is not null ? string.Join("+", weights.Select(w => w.Source))
            : r.Node("corpus") is { } c ? NonEmpty(c, r.PathOf("corpus")) : d.Corpus;
        var maxLen = r.Int("max_len", d.MaxLen, v => v >= 2, ">= 2");
        var batch = r.Int("batch", d.Batch, v => v >= 1, ">= 1");
        var augment = new AugmentConfig();
        if (r.Mapping("augment") is { } ar)
        {
            augment = new AugmentConfig(ar.Double("synonyms", 0, v => v >= 0 && v <= 1, "in [0, 1]"));
            ar.RejectUnknown();
        }
        r.RejectUnknown();
        return new DataConfig(corpus, maxLen, batch, augment, weights);
    }

    // corpus: { wordnet: 0.4, mail: 0.3, moby-dick: 0.3, my/texts.txt: 0.1 } — every key a source or a file, weights >= 0, sum > 0.
    static IReadOnlyList<SourceWeight> BindWeights(MappingReader r)
    {
        var weights = new List<SourceWeight>();
        foreach (string key in r.Keys.ToList())
        {
            if (!CorpusSources.Kinds.ContainsKey(key) && !CorpusSources.IsFile(key))
                throw new ConfigException(r.PathOf(key), $"is not a corpus source; known: {string.Join(", ", CorpusSources.Names)}, or a path to a .txt/.jsonl/.csv file");
            weights.Add(new SourceWeight(key, r.Double(key, 0, v => v >= 0 && double.IsFinite(v), ">= 0")));
        }
        if (weights.Count == 0) throw new ConfigException(r.Path, "must name at least one source with its weight");
        if (!(weights.Sum(w => w.Weight) > 0)) throw new ConfigException(r.Path, $"weights must sum to more than 0, got {weights.Sum(w => w.Weight)}");
        try
        {
            CorpusSources.Validate(weights.Select(w => w.Source).ToList());
        }
        catch (DistillSharpException e)
        {
            throw new ConfigException(r.Path, e.Message.Replace("data.corpus: ", "", StringComparison.Ordinal));
        }
        return weights;
    }

    internal static BenchConfig BindBench(MappingReader r)
    {
        IReadOnlyList<int>? batches = null;
        if (r.Node("batch") is { } b)
        {
            var path = r.PathOf("batch");
            var items = b is YamlSequenceNode ? YamlValues.Items(b, path).ToList() : [(b, path)];
            batches = items.Select(x => YamlValues.Int(x.Item1, x.Item2) is var v && v >= 1 ? v
                : throw new ConfigException(x.Item2, $"must be >= 1, got {YamlValues.Describe(x.Item1)}")).ToList();
            if (batches.Count == 0) throw new ConfigException(path, "must list at least one batch size, got an empty list");
        }
        var seq = r.Int("seq", 64, v => v >= 1, ">= 1");
        var runs = r.Int("runs", 200, v => v >= 1, ">= 1");
        r.RejectUnknown();
        return new BenchConfig(batches, seq, runs);
    }

    /// <summary>A non-empty string.</summary>
    internal static string NonEmpty(YamlNode node, string path)
    {
        var s = YamlValues.String(node, path);
        return s.Trim().Length > 0 ? s : throw new ConfigException(path, "must be a non-empty string, got ''");
    }

    /// <summary>
    /// Resolves the stages' <c>qat:</c> blocks against each other and the raw <c>quantize:</c> section:
    /// only the last stage may quantize-aware train (its export is the INT8 model);
    /// <c>quantize.qat: true</c> gives the last stage the default block when it has none, and
    /// <c>quantize.qat: false</c> contradicts a stage block; QAT needs static activations.
    /// </summary>
    static IReadOnlyList<StageConfig> ResolveQat(IReadOnlyList<StageConfig> stages, IReadOnlyDictionary<string, object?> quantize)
    {
        for (var i = 0; i < stages.Count - 1; i++)
            if (stages[i].Qat is not null)
                throw new ConfigException($"stages[{i}].qat", $"is allowed on the last stage only (stages[{stages.Count - 1}]); a later float stage would undo what QAT learned");
        var last = stages.Count - 1;
        if (quantize.ContainsKey("freeze_observers_after"))
            throw new ConfigException("quantize.freeze_observers_after", $"is a stage setting: QAT runs in a stage, so set stages[{last}].qat.freeze_observers_after (counted in that stage's steps)");
        var flag = quantize.TryGetValue("qat", out var q) ? q?.ToString()?.ToLowerInvariant() : null;
        if (flag == "false" && stages[last].Qat is not null)
            throw new ConfigException($"stages[{last}].qat", "is set but quantize.qat is false; drop one of them");
        if (flag == "true" && stages[last].Qat is null)
            stages = [.. stages.Take(last), stages[last] with { Qat = new QatConfig() }];
        if (stages[last].Qat is not null && quantize.TryGetValue("mode", out var mode) && mode?.ToString() is { } m && m != "static")
            throw new ConfigException($"stages[{last}].qat", $"needs quantize.mode: static (QAT learns static per-tensor activation ranges), got quantize.mode: {m}");
        if (stages[last].Qat is not null && quantize.TryGetValue("recipe", out var recipe) && recipe?.ToString() is { } rn
            && QuantRecipes.Contains(rn) && QuantRecipes.Get(rn).Mode != ActivationMode.Static)
            throw new ConfigException($"stages[{last}].qat", $"needs a static recipe (QAT learns static per-tensor activation ranges), got quantize.recipe: {rn}");
        return stages;
    }
}

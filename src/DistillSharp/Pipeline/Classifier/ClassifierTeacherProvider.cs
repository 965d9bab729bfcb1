using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DistillSharp.Config.Classifier;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models.Classifier;
using DistillSharp.Models.Encoder;
using DistillSharp.Reports.Decoder;

namespace DistillSharp.Pipeline.Classifier;

/// <summary>The run's teacher: where it is, its content key and its fine-tuning phase (null for a given classifier).</summary>
public sealed record ClassifierTeacher(SequenceClassifier Model, string Folder, string Identity, LmPhaseReport? Phase);

/// <summary>
/// Loads the configured classifier teacher, or fine-tunes one from <c>teacher.base</c> with CE on
/// the labelled training texts. A fine-tuned teacher is cached under
/// <c>&lt;cache root&gt;/classifier-teachers/&lt;key&gt;/</c> (an HF classifier folder, metrics.jsonl,
/// finetune.json) where the key is a SHA-256 of the base encoder's weights and tokenizer, the
/// fine-tuning stage, the labels, the labelled texts, the seed, the dropout and the --max-steps cap:
/// any change trains a new teacher, the same recipe is reused by every later run and by
/// <c>distill finetune</c>. Training happens in <c>&lt;key&gt;.partial/</c> (checkpointed, so a killed
/// fine-tuning resumes) and is renamed into place when done.
/// </summary>
public static class ClassifierTeacherProvider
{
    /// <summary>Folder of cached fine-tuned teachers under a cache root.</summary>
    public static string CacheDir(string cacheRoot) => Path.Combine(cacheRoot, "classifier-teachers");

    /// <summary>The teacher of <paramref name="config"/>: loaded, taken from the cache, or fine-tuned now.</summary>
    public static ClassifierTeacher Get(ClassifyRunConfig config, ClassifyRunData data, long? maxSteps, string cacheRoot, TextWriter log,
        Action<TrainingProgress>? progress = null)
    {
        var t = config.Teacher;
        if (t.Source is { } source)
        {
            var model = LoadedClassifierSource(source, config.Data.MaxLen);
            if (!model.Labels.SequenceEqual(data.Split.Labels))
            {
                model.Dispose();
                throw new DistillSharpException($"teacher.source {source}: its labels ({string.Join(", ", model.Labels)}) are not the data's ({string.Join(", ", data.Split.Labels)})");
            }
            return new ClassifierTeacher(model, source, "source-" + TeacherCache.WeightsIdentity(model.Model)[..24], null);
        }
        using var encoder = ModelLoader.Load(t.Base!, config.Data.MaxLen);
        string key = Key(config, data, encoder, maxSteps);
        string final = Path.Combine(CacheDir(cacheRoot), key);
        if (ClassifierFolder.IsClassifierFolder(final))
        {
            log.WriteLine($"teacher: reusing the fine-tuned teacher {final}");
            var cached = ClassifierFolder.Load(final, config.Data.MaxLen);
            var phase = File.Exists(Path.Combine(final, "finetune.json"))
                ? JsonSerializer.Deserialize<LmPhaseReport>(File.ReadAllText(Path.Combine(final, "finetune.json")))! with { Cached = true }
                : new LmPhaseReport("finetune", 0, 0, null, null, Cached: true);
            return new ClassifierTeacher(cached, final, key, phase);
        }
        string partial = final + ".partial";
        Directory.CreateDirectory(partial);
        var teacher = ClassifierBuilder.FromEncoder(encoder, data.Split.Labels, config.Seed, config.Dropout);
        log.WriteLine($"teacher: fine-tuning {t.Base} ({teacher.Model.parameters().Sum(p => p.numel()):N0} parameters) on {data.Labelled.Texts.Count:N0} labelled texts → {final}");
        try
        {
            var clock = PhaseClock.Start();
            var plan = new DistillPlan([t.FineTune!], config.Data.Batch, config.Seed, config.CheckpointActivations);
            var result = new Distiller(plan, null, teacher, data.Labelled.Texts, new DistillerOptions(partial, maxSteps,
                Resume: DistillCheckpoint.Latest(partial) is not null, ActivationStatsEvery: 0, Progress: progress), data.Labelled.Labels).Run();
            teacher.Model.eval();
            ClassifierFolder.Save(teacher, partial);
            var report = clock.Report("finetune", result.GlobalStep, result.LastLoss);
            File.WriteAllText(Path.Combine(partial, "finetune.json"), JsonSerializer.Serialize(report));
            string checkpoints = Path.Combine(partial, "checkpoints");
            if (Directory.Exists(checkpoints)) Directory.Delete(checkpoints, recursive: true);
            if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
            Directory.Move(partial, final);
            var loaded = new SequenceClassifier(teacher.Model, teacher.Tokenizer, final);
            return new ClassifierTeacher(loaded, final, key, report);
        }
        catch
        {
            teacher.Dispose();
            throw;
        }
    }

    /// <summary>A classifier named by <c>teacher.source</c>: an HF classifier folder or a run folder's <c>teacher/</c>.</summary>
    static SequenceClassifier LoadedClassifierSource(string source, int maxLen)
    {
        if (ClassifierFolder.IsClassifierFolder(source)) return ClassifierFolder.Load(source, maxLen);
        string inRun = Path.Combine(source, "teacher");
        if (ClassifierFolder.IsClassifierFolder(inRun)) return ClassifierFolder.Load(inRun, maxLen);
        throw new DistillSharpException($"teacher.source {source}: not a sequence classifier folder (config.json naming BertForSequenceClassification) nor a run folder with teacher/");
    }

    /// <summary>The cache key of a fine-tuning recipe on this data from this encoder.</summary>
    public static string Key(ClassifyRunConfig config, ClassifyRunData data, SentenceEncoder encoder, long? maxSteps)
    {
        var stage = config.Teacher.FineTune!;
        using var key = new ContentKey("distillsharp-classifier-teacher-v1");
        key.Add(TeacherCache.WeightsIdentity(encoder.Model)).Add(encoder.Tokenizer.VocabText)
            .Add($"lower={encoder.Tokenizer.LowerCase} max_len={encoder.Tokenizer.MaxLength}").Add(Describe(stage))
            .Add($"batch={config.Data.Batch} seed={config.Seed} dropout={config.Dropout} cap={maxSteps} checkpoint_activations={config.CheckpointActivations}")
            .Add(string.Join("\u0001", data.Split.Labels));
        for (int i = 0; i < data.Labelled.Texts.Count; i++) key.Add($"{data.Labelled.Labels[i]}\u0001{data.Labelled.Texts[i]}");
        return key.Key();
    }

    // Everything of a stage that changes what it trains, in a fixed text form.
    static string Describe(StageConfig s) => string.Join(";",
        $"steps={s.Steps} epochs={s.Epochs} batch={s.Batch} accumulate={s.Accumulate} clip={s.ClipGradNorm} train_layers={s.TrainLayers}",
        $"optimizer={s.Optimizer}", $"schedule={s.Schedule}",
        string.Join(",", s.Losses.Select(l => $"{l.Name}:{l.Weight}:{string.Join("/", l.Settings.Values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={Format(kv.Value)}"))}")));

    static string Format(object value) => value switch
    {
        IEnumerable<object> items => "[" + string.Join(",", items) + "]",
        _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "",
    };
}

using DistillSharp.Config.Encoder;
using DistillSharp.Data.Labelled;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Quantization;

namespace DistillSharp.Config.Classifier;

/// <summary>
/// A classification run (<c>kind: classify</c>): labelled data, a classifier teacher (fine-tuned
/// here from an encoder, or given), a student distilled from it in stages, the CE-only baseline,
/// quantization, export, evaluation and benchmark. Validated once by the binder; trusted after.
/// </summary>
public sealed record ClassifyRunConfig : IRunConfig
{
    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>The kind name.</summary>
    public const string KindName = "classify";

    /// <summary>Labelled data and the distillation corpus.</summary>
    public required ClassifyDataConfig Data { get; init; }

    /// <summary>The teacher: a classifier folder, or an encoder fine-tuned on the labels.</summary>
    public required ClassifyTeacherConfig Teacher { get; init; }

    /// <summary>The student's shape and initialisation.</summary>
    public StudentConfig Student { get; init; } = new();

    /// <summary>Which encoder the student's layers are copied from: "base" (the teacher's starting encoder) or "teacher" (the fine-tuned teacher).</summary>
    public string StudentFrom { get; init; } = "base";

    /// <summary>Distillation stages of the student.</summary>
    public required IReadOnlyList<StageConfig> Stages { get; init; }

    /// <summary>Train baseline_ce: the student's architecture and initialisation, CE on the labelled texts only, the same steps.</summary>
    public bool Baseline { get; init; } = true;

    /// <summary>The <c>quantize:</c> section, passed through (the quantization engine validates it).</summary>
    public IReadOnlyDictionary<string, object?> Quantize { get; init; } = new Dictionary<string, object?>();

    /// <summary>Benchmark settings.</summary>
    public BenchConfig Bench { get; init; } = new();

    /// <summary>Run folder.</summary>
    public string Output { get; init; } = "runs/classify";

    /// <summary>Recompute activations in backward instead of storing them.</summary>
    public bool CheckpointActivations { get; init; }

    /// <summary>Dropout of the trained models, in [0, 1).</summary>
    public double Dropout { get; init; }

    /// <summary>Seed for weights, data order and splits of the trained models.</summary>
    public int Seed { get; init; }

    /// <summary>Allowed values of <see cref="StudentFrom"/>.</summary>
    public static readonly string[] StudentSources = ["base", "teacher"];

    /// <summary>The <c>quantize:</c> section, validated.</summary>
    public QuantizeConfig QuantizeSection() => QuantizeConfig.FromMap(Quantize.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()));

    /// <summary>The student's distillation plan.</summary>
    public DistillPlan StudentPlan() => new(Stages, Data.Batch, Seed, CheckpointActivations);

    /// <summary>
    /// The baseline's plan: the student's stages with the same optimizer steps (epoch counts resolved
    /// with <paramref name="stageSteps"/>, the student's), micro-batch, accumulation, optimizer and
    /// schedule, but CE on the labels as the only loss (the student's own <c>ce</c> options when it has them).
    /// </summary>
    public DistillPlan BaselinePlan(Func<StageConfig, int> stageSteps)
    {
        var ce = Stages.SelectMany(s => s.Losses).FirstOrDefault(l => l.Name == "ce") is { } own
            ? own with { Weight = 1.0 }
            : new LossSpec("ce", 1.0, LossRegistry.Get("ce").Settings());
        var stages = Stages.Select(s => s with { Name = "baseline_ce/" + s.Name, Epochs = null, Steps = stageSteps(s), Losses = [ce], Qat = null }).ToList();
        return new DistillPlan(stages, Data.Batch, Seed, CheckpointActivations);
    }
}

/// <summary>The labelled data of a classification run.</summary>
/// <param name="Source">A built-in dataset (wordnet-categories, spam) or a .csv/.jsonl file.</param>
/// <param name="TextColumn">A file's text column / field.</param>
/// <param name="LabelColumn">A file's label column / field.</param>
/// <param name="Labels">A file's labels, in class-id order; null = as they appear.</param>
/// <param name="Dev">Share of each label for dev.</param>
/// <param name="Test">Share of each label for test.</param>
/// <param name="MaxTrain">Labelled budget (stratified); null = every training text.</param>
/// <param name="Unlabelled">Unlabelled texts added to the student's distillation corpus: "none", "rest" (the
/// training texts beyond the labelled budget, labels unused) or a .txt/.jsonl/.csv file.</param>
/// <param name="MaxUnlabelled">At most this many unlabelled texts (a seeded choice); null = all.</param>
/// <param name="MaxLen">Tokens per text; longer texts are truncated (and counted).</param>
/// <param name="Batch">Default micro-batch size.</param>
/// <param name="SplitSeed">Seed of the train/dev/test split.</param>
public sealed record ClassifyDataConfig(string Source, string TextColumn = "text", string LabelColumn = "label",
    IReadOnlyList<string>? Labels = null, double Dev = 0.1, double Test = 0.1, int? MaxTrain = null, string Unlabelled = "none",
    int? MaxUnlabelled = null, int MaxLen = 64, int Batch = 32, ulong SplitSeed = Data.DataSplits.Seed)
{
    /// <summary>The data options of <see cref="LabelledSources"/>.</summary>
    public LabelledDataOptions Options() => new(Source, TextColumn, LabelColumn, Labels, Dev, Test, MaxTrain, SplitSeed);
}

/// <summary>The teacher: exactly one of <paramref name="Source"/> (a classifier folder) and <paramref name="Base"/> with <paramref name="FineTune"/>.</summary>
/// <param name="Source">A Hugging Face classifier folder (its labels must be the data's).</param>
/// <param name="Base">The encoder to fine-tune: builtin:NAME, an HF folder or an ONNX file.</param>
/// <param name="FineTune">The fine-tuning stage (CE on the labelled training texts).</param>
public sealed record ClassifyTeacherConfig(string? Source, string? Base, StageConfig? FineTune);

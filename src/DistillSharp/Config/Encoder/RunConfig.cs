using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Quantization;
using DistillSharp.Models.Encoder;

namespace DistillSharp.Config.Encoder;

/// <summary>
/// A whole run, as <c>config.yaml</c> describes it: validated once by <see cref="ConfigLoader"/>
/// (every error names its YAML path), trusted everywhere after.
/// </summary>
public sealed record RunConfig
{
    /// <summary>The frozen teacher.</summary>
    public required TeacherConfig Teacher { get; init; }

    /// <summary>The student's architecture and initialisation.</summary>
    public required StudentConfig Student { get; init; }

    /// <summary>Training data.</summary>
    public required DataConfig Data { get; init; }

    /// <summary>Distillation stages, run in order (at least one).</summary>
    public required IReadOnlyList<StageConfig> Stages { get; init; }

    /// <summary>
    /// The <c>quantize:</c> section, passed through unvalidated (the quantization engine owns its
    /// keys): scalars as strings, lists as <c>IReadOnlyList&lt;object?&gt;</c>, mappings as
    /// <c>IReadOnlyDictionary&lt;string, object?&gt;</c>. Empty when absent.
    /// </summary>
    public IReadOnlyDictionary<string, object?> Quantize { get; init; } = new Dictionary<string, object?>();

    /// <summary>The <c>quantize:</c> section, validated.</summary>
    public QuantizeConfig QuantizeSection() => QuantizeConfig.FromMap(Quantize.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString()));

    /// <summary>Evaluation task names.</summary>
    public IReadOnlyList<string> Eval { get; init; } = [];

    /// <summary>Benchmark settings.</summary>
    public BenchConfig Bench { get; init; } = new();

    /// <summary>Run folder.</summary>
    public string Output { get; init; } = "runs/latest";

    /// <summary>Recompute activations in backward instead of storing them (less memory, more time).</summary>
    public bool CheckpointActivations { get; init; }

    /// <summary>Student dropout probability during distillation, in [0, 1).</summary>
    public double Dropout { get; init; }

    /// <summary>Seed for torch and data order.</summary>
    public int Seed { get; init; }

    /// <summary>The resolved config as YAML (defaults filled in); <see cref="ConfigLoader.Parse"/> reads it back.</summary>
    public string ToYaml() => ConfigWriter.Write(this);
}

/// <summary>The teacher: <c>builtin:NAME</c>, an HF folder, an ONNX file or a run folder.</summary>
public sealed record TeacherConfig(string Source);

/// <summary>The student's shape and initialisation.</summary>
/// <param name="Layers">Transformer layers.</param>
/// <param name="Hidden">Hidden width; divisible by <paramref name="Heads"/>.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Ffn">Feed-forward width.</param>
/// <param name="Init">"teacher" (copy teacher layers; widths must match), "projection" (PCA-projected teacher layers for a narrower student) or "random".</param>
/// <param name="TeacherLayers">With init "teacher": which teacher layer initialises each student layer (one per layer); null = evenly spaced.</param>
public sealed record StudentConfig(int Layers = 3, int Hidden = 384, int Heads = 12, int Ffn = 1536,
    string Init = "teacher", IReadOnlyList<int>? TeacherLayers = null)
{
    /// <summary>Allowed values of <see cref="Init"/>.</summary>
    public static readonly string[] InitModes = ["teacher", "projection", "random"];

    /// <summary>The student this section describes, with <paramref name="dropout"/>.</summary>
    public StudentSpec ToSpec(double dropout) => new(
        Layers, Hidden, Heads, Ffn,
        Init switch { "teacher" => StudentInit.TeacherLayers, "projection" => StudentInit.Projection, _ => StudentInit.Random },
        TeacherLayers?.ToArray(), dropout);
}

/// <summary>Corpus, sequence length and default batch size.</summary>
public sealed record DataConfig(string Corpus = "wordnet", int MaxLen = 64, int Batch = 64, AugmentConfig? Augment = null)
{
    /// <summary>Augmentation (never null after binding).</summary>
    public AugmentConfig Augmentation => Augment ?? new AugmentConfig();
}

/// <summary>Text augmentation probabilities.</summary>
/// <param name="Synonyms">Probability of replacing a word by a WordNet synonym, in [0, 1].</param>
public sealed record AugmentConfig(double Synonyms = 0);

/// <summary>Benchmark settings.</summary>
/// <param name="Batch">Batch sizes to measure.</param>
/// <param name="Seq">Sequence length.</param>
/// <param name="Runs">Timed runs per setting.</param>
public sealed record BenchConfig(IReadOnlyList<int>? Batch = null, int Seq = 64, int Runs = 200)
{
    /// <summary>Batch sizes (default 1 and 32).</summary>
    public IReadOnlyList<int> Batches => Batch ?? [1, 32];
}

/// <summary>One distillation stage.</summary>
public sealed record StageConfig
{
    /// <summary>Unique stage name.</summary>
    public required string Name { get; init; }

    /// <summary>Passes over the data; exactly one of Epochs and Steps is set.</summary>
    public int? Epochs { get; init; }

    /// <summary>Optimizer steps; exactly one of Epochs and Steps is set.</summary>
    public int? Steps { get; init; }

    /// <summary>Weighted loss terms (at least one with weight &gt; 0).</summary>
    public required IReadOnlyList<LossSpec> Losses { get; init; }

    /// <summary>Optimizer.</summary>
    public OptimizerConfig Optimizer { get; init; } = new();

    /// <summary>Learning-rate schedule.</summary>
    public ScheduleConfig Schedule { get; init; } = new();

    /// <summary>Micro-batches per optimizer step (effective batch = batch × accumulate).</summary>
    public int Accumulate { get; init; } = 1;

    /// <summary>Max global gradient norm; null = no clipping.</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Which student parameters train in this stage.</summary>
    public TrainLayers TrainLayers { get; init; } = TrainLayers.Everything;

    /// <summary>Batch size of this stage; null = <see cref="DataConfig.Batch"/>.</summary>
    public int? Batch { get; init; }

    /// <summary>Checkpoint every N optimizer steps (0 = only at the stage's end).</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>Log metrics every N optimizer steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Quantization-aware training in this stage (last stage only), or null for float training.</summary>
    public QatConfig? Qat { get; init; }

    /// <summary>The micro-batch size: the stage's own or the data default.</summary>
    public int BatchSize(DataConfig data) => Batch ?? data.Batch;

    /// <summary>Samples per optimizer step.</summary>
    public int EffectiveBatch(DataConfig data) => BatchSize(data) * Accumulate;
}

/// <summary>AdamW settings.</summary>
public sealed record OptimizerConfig(string Name = "adamw", double Lr = 1e-4, double Beta1 = 0.9, double Beta2 = 0.999,
    double Eps = 1e-8, double WeightDecay = 0.01)
{
    /// <summary>Known optimizers.</summary>
    public static readonly string[] Names = ["adamw"];
}

/// <summary>Learning-rate schedule: linear warm-up, then cosine/linear decay to 0 or constant.</summary>
/// <param name="Name">"cosine", "linear" or "constant".</param>
/// <param name="WarmupFraction">Warm-up as a fraction of the stage's steps (used when WarmupSteps is null).</param>
/// <param name="WarmupSteps">Warm-up in optimizer steps.</param>
public sealed record ScheduleConfig(string Name = "cosine", double WarmupFraction = 0, int? WarmupSteps = null)
{
    /// <summary>Known schedules.</summary>
    public static readonly string[] Names = ["cosine", "linear", "constant"];

    /// <summary>Warm-up steps for a stage of <paramref name="totalSteps"/> steps.</summary>
    public int Warmup(int totalSteps) => WarmupSteps ?? (int)Math.Round(WarmupFraction * totalSteps);
}

using DistillSharp.Quantization;
using DistillSharp.Models.Encoder;
using DistillSharp.Distillation.Encoder;

namespace DistillSharp.Config.Encoder;

/// <summary>
/// A whole run, as <c>config.yaml</c> describes it: validated once by <see cref="ConfigLoader"/>
/// (every error names its YAML path), trusted everywhere after.
/// </summary>
public sealed record RunConfig : IRunConfig
{
    /// <inheritdoc/>
    public string Kind => ConfigKinds.Encoder;

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

    /// <summary>What the distiller trains: the stages with the data's default batch, the seed, and the quantize
    /// settings when a stage quantize-aware trains.</summary>
    public DistillPlan DistillPlan() => new(Stages, Data.Batch, Seed, CheckpointActivations,
        Stages.Any(s => s.Qat is not null) ? QuantizeSection() : null);

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

    /// <summary>The resolved config as YAML (defaults filled in); <see cref="ConfigLoader"/> reads it back.</summary>
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


using DistillSharp.Data;
using DistillSharp.Quantization;
using DistillSharp.Models.Encoder;
using DistillSharp.Models.Static;
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

    /// <summary>
    /// The <c>students:</c> list of a multi-student run (docs/REPORTS.md: frontier), or null for the single
    /// <c>student:</c> run. When set, <see cref="Student"/> and <see cref="Stages"/> are its first entry's.
    /// </summary>
    public IReadOnlyList<NamedStudent>? Students { get; init; }

    /// <summary>The <c>select:</c> constraint that picks the deployed student of a multi-student run, or null.</summary>
    public SelectConfig? Select { get; init; }

    /// <summary>The single-student config that trains and measures <paramref name="s"/> (its student and stages, everything else shared).</summary>
    public RunConfig ForStudent(NamedStudent s) => this with { Student = s.Student, Stages = s.Stages, Students = null, Select = null };

    /// <summary>Whether an eval task name is a retrieval task (its <c>r10</c> is the frontier's quality).</summary>
    public static bool IsRetrievalTask(string task) => task.EndsWith("-retrieval", StringComparison.Ordinal);

    /// <summary>The resolved config as YAML (defaults filled in); <see cref="ConfigLoader"/> reads it back.</summary>
    public string ToYaml() => ConfigWriter.Write(this);
}

/// <summary>The teacher and the engine that runs its frozen forward pass during distillation.</summary>
/// <param name="Source"><c>builtin:NAME</c>, an HF folder, an ONNX file or a run folder.</param>
/// <param name="Engine">
/// A row of <c>TeacherEngines.All</c>: <c>torchsharp</c> (the loaded model itself) or <c>onnxruntime</c>
/// (an fp32 ONNX export of it with the outputs the stage's losses read; equal within float rounding, tested).
/// </param>
public sealed record TeacherConfig(string Source, string Engine = TeacherConfig.DefaultEngine)
{
    /// <summary>
    /// The engine when the config names none: ONNX Runtime, the one that stays within 1.1× of ONNX Runtime's
    /// plain forward on both hosts measured (docs/BENCHMARKS.md: TorchSharp's teacher took 1.22–1.97× on AMD).
    /// </summary>
    public const string DefaultEngine = "onnxruntime";
}

/// <summary>The student's shape and initialisation.</summary>
/// <param name="Layers">Transformer layers.</param>
/// <param name="Hidden">Hidden width; divisible by <paramref name="Heads"/>.</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="Ffn">Feed-forward width.</param>
/// <param name="Init">"teacher" (copy teacher layers; widths must match), "projection" (PCA-projected teacher layers for a narrower student) or "random".</param>
/// <param name="TeacherLayers">With init "teacher": which teacher layer initialises each student layer (one per layer); null = evenly spaced.</param>
/// <param name="Kind">"transformer" (the fields above) or "static" (a token table built from the teacher, <see cref="StaticBuildOptions"/>; docs/STATIC.md).</param>
/// <param name="Dims">Static students: PCA width of the token table.</param>
/// <param name="SifCoefficient">Static students: SIF coefficient of the Zipf weighting (0 = none).</param>
/// <param name="Train">Static students: train the table on the corpus against the teacher (<c>student.train</c>); null = untrained.</param>
public sealed record StudentConfig(int Layers = 3, int Hidden = 384, int Heads = 12, int Ffn = 1536,
    string Init = "teacher", IReadOnlyList<int>? TeacherLayers = null, string Kind = StudentConfig.Transformer, int Dims = 256,
    double SifCoefficient = 1e-4, StaticTrainOptions? Train = null)
{
    /// <summary>Values of <see cref="Kind"/>.</summary>
    public const string Transformer = "transformer", Static = "static";

    /// <summary>Allowed values of <see cref="Kind"/>.</summary>
    public static readonly string[] Kinds = [Transformer, Static];

    /// <summary>Allowed values of <see cref="Init"/>.</summary>
    public static readonly string[] InitModes = ["teacher", "projection", "random"];

    /// <summary>Whether this is a static (token table) student.</summary>
    public bool IsStatic => Kind == Static;

    /// <summary>The static build this section describes; <paramref name="maxLength"/> caps tokens per text.</summary>
    public StaticBuildOptions ToStaticOptions(int maxLength = 512) => new(Dims, SifCoefficient, MaxLength: maxLength, Train: Train);

    /// <summary>The student this section describes, with <paramref name="dropout"/>.</summary>
    public StudentSpec ToSpec(double dropout) => new(
        Layers, Hidden, Heads, Ffn,
        Init switch { "teacher" => StudentInit.TeacherLayers, "projection" => StudentInit.Projection, _ => StudentInit.Random },
        TeacherLayers?.ToArray(), dropout);
}

/// <summary>Corpus, sequence length and default batch size.</summary>
/// <param name="Corpus">Sources (and file paths) joined by '+'; with <paramref name="Weights"/>, their names in config order.</param>
/// <param name="MaxLen">Tokens per text.</param>
/// <param name="Batch">Texts per batch.</param>
/// <param name="Augment">Augmentation.</param>
/// <param name="Weights">Per-source weights (<c>corpus: { wordnet: 0.4, mail: 0.3, moby-dick: 0.3 }</c>), or null for the plain concatenation.</param>
public sealed record DataConfig(string Corpus = "wordnet", int MaxLen = 64, int Batch = 64, AugmentConfig? Augment = null,
    IReadOnlyList<SourceWeight>? Weights = null)
{
    /// <summary>The entries of <see cref="Corpus"/>: source names and file paths, in config order.</summary>
    public IReadOnlyList<string> CorpusEntries => Weights?.Select(w => w.Source).ToList() ?? CorpusSources.Split(Corpus);

    /// <summary>Augmentation (never null after binding).</summary>
    public AugmentConfig Augmentation => Augment ?? new AugmentConfig();
}

/// <summary>One source of a weighted corpus mix (<see cref="CorpusMix"/>).</summary>
/// <param name="Source">A <see cref="CorpusSources"/> name or a file path.</param>
/// <param name="Weight">Its share, ≥ 0 (the weights need not sum to 1).</param>
public sealed record SourceWeight(string Source, double Weight);

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


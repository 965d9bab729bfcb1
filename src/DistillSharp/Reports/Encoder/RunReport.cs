using System.Text.Json.Serialization;

namespace DistillSharp.Reports.Encoder;

/// <summary>
/// Everything report.json holds about one run. On disk the model variants are top-level keys
/// (<c>"teacher"</c>, <c>"student"</c>, <c>"student_int8"</c>, <c>"baseline"</c>, …) next to the
/// reserved keys <c>run</c>, <c>targets</c>, <c>distillation</c>, <c>notes</c> and <c>frontier</c>; see
/// <see cref="RunReportJson"/> for reading and writing. Every field may be missing (null).
/// </summary>
public sealed record RunReport
{
    /// <summary>Which config ran, when and where.</summary>
    public RunInfo? Run { get; init; }

    /// <summary>Model variants by name, in file order (teacher first by convention).</summary>
    public OrderedDictionary<string, VariantReport> Variants { get; init; } = new();

    /// <summary>Goals of the run (quality kept, speed-up, size) and whether they were met.</summary>
    public IReadOnlyList<TargetResult>? Targets { get; init; }

    /// <summary>Facts about the distillation itself.</summary>
    public DistillationSummary? Distillation { get; init; }

    /// <summary>Free-text remarks, printed as a list at the end of report.md.</summary>
    public IReadOnlyList<string>? Notes { get; init; }

    /// <summary>A multi-student run's speed–quality frontier and selection; null for a single-student run.</summary>
    public FrontierReport? Frontier { get; init; }

    /// <summary>The variant called <paramref name="name"/>, or null.</summary>
    public VariantReport? Variant(string name) => Variants.TryGetValue(name, out var v) ? v : null;
}

/// <summary>One model variant: its size, quality, latency and throughput.</summary>
public sealed record VariantReport
{
    /// <summary>Number of parameters (weights of an INT8 model count once each).</summary>
    public long? Params { get; init; }

    /// <summary>Size of the saved model on disk, in bytes.</summary>
    public long? FileBytes { get; init; }

    /// <summary>The quantization recipe a quantized variant computes (e.g. <c>int8-dynamic</c>); null for float variants.</summary>
    public string? Recipe { get; init; }

    /// <summary>The tasks (report keys) whose results were read from the evaluation cache, not recomputed; null = none.</summary>
    public IReadOnlyList<string>? QualityCached { get; init; }

    /// <summary>task → metric → value, e.g. <c>wordnet_retrieval → r10 → 0.63</c>.</summary>
    public Dictionary<string, Dictionary<string, double?>>? Quality { get; init; }

    /// <summary>Latency at batch 1, in milliseconds.</summary>
    public LatencyReport? LatencyMs { get; init; }

    /// <summary>Throughput at batch 32.</summary>
    public ThroughputReport? Throughput { get; init; }

    /// <summary>quality[task][metric], or null when either is missing.</summary>
    public double? Metric(string task, string metric) =>
        Quality != null && Quality.TryGetValue(task, out var m) && m != null && m.TryGetValue(metric, out var v) ? v : null;
}

/// <summary>Latency percentiles in milliseconds (batch 1).</summary>
public sealed record LatencyReport
{
    /// <summary>Median.</summary>
    public double? P50 { get; init; }
    /// <summary>90th percentile (optional).</summary>
    public double? P90 { get; init; }
    /// <summary>99th percentile.</summary>
    public double? P99 { get; init; }
}

/// <summary>Throughput (batch 32): sequences/s for encoders, tokens/s for decoders.</summary>
public sealed record ThroughputReport
{
    /// <summary>Sequences per second.</summary>
    public double? SequencesPerS { get; init; }
    /// <summary>Generated tokens per second (decoders).</summary>
    public double? TokensPerS { get; init; }
}

/// <summary>Which config ran, when, and on what machine.</summary>
public sealed record RunInfo
{
    /// <summary>Config name or path, e.g. <c>default</c>.</summary>
    public string? Config { get; init; }
    /// <summary>When the run finished, ISO 8601 (e.g. <c>2025-11-28T19:40:00Z</c>).</summary>
    public string? Date { get; init; }
    /// <summary>The machine the numbers were measured on.</summary>
    public MachineInfo? Machine { get; init; }
    /// <summary>Wall time of each phase of the run in seconds, in run order (e.g. <c>evaluate teacher</c>, <c>distill</c>).</summary>
    public Dictionary<string, double>? PhaseSeconds { get; init; }
}

/// <summary>The CPU the benchmarks ran on.</summary>
public sealed record MachineInfo
{
    /// <summary>CPU model name.</summary>
    public string? Cpu { get; init; }
    /// <summary>Logical cores available to the run.</summary>
    public int? Cores { get; init; }
    /// <summary>Relevant instruction-set flags, e.g. <c>avx2</c>, <c>avx512bw</c>, <c>avx_vnni</c>.</summary>
    public IReadOnlyList<string>? Flags { get; init; }
}

/// <summary>How a measured value must compare with its goal.</summary>
public enum TargetComparison
{
    /// <summary>Met when measured ≥ goal (quality, speed-up).</summary>
    AtLeast,
    /// <summary>Met when measured ≤ goal (latency, size).</summary>
    AtMost,
}

/// <summary>One goal of the run, e.g. "student R@10 ≥ 0.95 × teacher".</summary>
public sealed record TargetResult
{
    /// <summary>What is measured, e.g. <c>student_int8 R@10 / teacher</c>.</summary>
    public string Name { get; init; } = "";
    /// <summary>The goal value.</summary>
    public double? Goal { get; init; }
    /// <summary>Whether measured must be at least or at most the goal (default at least).</summary>
    public TargetComparison? Comparison { get; init; }
    /// <summary>Unit printed after numbers, e.g. <c>ms</c>, <c>×</c> (optional).</summary>
    public string? Unit { get; init; }
    /// <summary>The measured value.</summary>
    public double? Measured { get; init; }
    /// <summary>Whether the goal was met; when null it is derived from goal, measured and comparison.</summary>
    public bool? Met { get; init; }
    /// <summary>Free text, e.g. why a target was missed.</summary>
    public string? Note { get; init; }

    /// <summary><see cref="Met"/> when given, else computed; null when goal or measured is missing.</summary>
    [JsonIgnore]
    public bool? IsMet => Met ?? (Goal is double g && Measured is double m
        ? (Comparison == TargetComparison.AtMost ? m <= g : m >= g)
        : null);

    /// <summary>How far measured lies on the good side of the goal (negative = missed by), or null.</summary>
    [JsonIgnore]
    public double? Margin => Goal is double g && Measured is double m
        ? (Comparison == TargetComparison.AtMost ? g - m : m - g)
        : null;
}

/// <summary>Facts about the distillation run (mirrors <c>TrainingResult</c>).</summary>
public sealed record DistillationSummary
{
    /// <summary>Optimizer steps taken in total.</summary>
    public long? Steps { get; init; }
    /// <summary>Whether every stage ran to its end (false after <c>--max-steps</c>).</summary>
    public bool? Completed { get; init; }
    /// <summary>Steps skipped because of a non-finite loss or gradient.</summary>
    public int? SkippedSteps { get; init; }
    /// <summary>Wall time of the distillation, in seconds.</summary>
    public double? Seconds { get; init; }
    /// <summary>Teacher-output cache hits.</summary>
    public long? CacheHits { get; init; }
    /// <summary>Teacher-output cache misses (teacher forward passes run).</summary>
    public long? CacheMisses { get; init; }
    /// <summary>What the distillation corpus held: texts per <c>data.corpus</c> source (a repeated source counts its repeats).</summary>
    public Dictionary<string, int>? CorpusTexts { get; init; }
    /// <summary>Sources held out of the corpus because an evaluation task measures them as an unseen domain (e.g. <c>sotu</c>).</summary>
    public IReadOnlyList<string>? HeldOutDomains { get; init; }
}

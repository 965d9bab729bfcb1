namespace DistillSharp.Reports.Encoder;

/// <summary>
/// The <c>frontier</c> section of a multi-student run's report.json: every student row (fp32 and
/// INT8) and the teacher as a point of quality vs batch-1 p50 latency, which points no other point
/// dominates, and what <c>select:</c> chose (docs/REPORTS.md: frontier).
/// </summary>
public sealed record FrontierReport
{
    /// <summary>The quality compared, <c>task.metric</c> (e.g. <c>wordnet_retrieval.r10</c>).</summary>
    public string? Metric { get; init; }

    /// <summary>The points, teacher first, then each student's rows in config order.</summary>
    public IReadOnlyList<FrontierPoint>? Points { get; init; }

    /// <summary>The selection, or null when the config has no <c>select:</c>.</summary>
    public SelectionReport? Selection { get; init; }
}

/// <summary>One variant on the frontier.</summary>
public sealed record FrontierPoint
{
    /// <summary>The variant's report key (e.g. <c>l2</c>, <c>l2_int8</c>, <c>teacher</c>).</summary>
    public string Variant { get; init; } = "";
    /// <summary>The student the row measures (the <c>students:</c> name); null for the teacher.</summary>
    public string? Student { get; init; }
    /// <summary>The quality metric's value.</summary>
    public double? Quality { get; init; }
    /// <summary>Quality / the teacher's quality.</summary>
    public double? QualityRatio { get; init; }
    /// <summary>Batch-1 p50 latency, ms.</summary>
    public double? P50Ms { get; init; }
    /// <summary>Model size on disk, bytes.</summary>
    public long? FileBytes { get; init; }
    /// <summary>True when no other point is at least as fast and at least as good, and strictly better in one.</summary>
    public bool? Pareto { get; init; }
}

/// <summary>What <c>select:</c> asked, which rows passed, and which student the run deployed to <c>student/</c>.</summary>
public sealed record SelectionReport
{
    /// <summary><c>min_quality</c>, <c>max_latency_ms</c> or <c>max_bytes</c>.</summary>
    public string? Constraint { get; init; }
    /// <summary>The constraint's value.</summary>
    public double? Value { get; init; }
    /// <summary>The rows that meet it, best first.</summary>
    public IReadOnlyList<string>? Passed { get; init; }
    /// <summary>The chosen row, or null when none passes.</summary>
    public string? Chosen { get; init; }
    /// <summary>The student deployed to <c>student/</c> (the chosen row's student), or null: nothing deployed.</summary>
    public string? Deployed { get; init; }
    /// <summary>Why, in one sentence.</summary>
    public string? Reason { get; init; }
}

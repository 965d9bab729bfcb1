using DistillSharp.Distillation.Encoder;

namespace DistillSharp.Config.Encoder;

/// <summary>One entry of a <c>students:</c> list: a named student spec (as <c>student:</c> takes) and the stages that train it.</summary>
/// <param name="Name">Report key prefix and folder name under <c>students/</c>: lower-case letters, digits and '_'.</param>
/// <param name="Student">The student's architecture and initialisation.</param>
/// <param name="Stages">Its own <c>stages:</c>, or the config's top-level stages; empty for a static student.</param>
public sealed record NamedStudent(string Name, StudentConfig Student, IReadOnlyList<StageConfig> Stages);

/// <summary>
/// The <c>select:</c> section: the one constraint a multi-student run deploys by (docs/REPORTS.md: frontier).
/// <c>min_quality</c> = fraction of the teacher's quality, the fastest passing row wins;
/// <c>max_latency_ms</c> (batch-1 p50) or <c>max_bytes</c> (model size on disk) = a cap, the best quality under it wins.
/// </summary>
/// <param name="Key">Which constraint: one of <see cref="Keys"/>.</param>
/// <param name="Value">Its value (a fraction in (0, 1], milliseconds &gt; 0, or bytes ≥ 1).</param>
public sealed record SelectConfig(string Key, double Value)
{
    /// <summary>The constraint keys.</summary>
    public const string MinQuality = "min_quality", MaxLatencyMs = "max_latency_ms", MaxBytes = "max_bytes";

    /// <summary>Every constraint key, in the order error messages list them.</summary>
    public static readonly string[] Keys = [MinQuality, MaxLatencyMs, MaxBytes];
}

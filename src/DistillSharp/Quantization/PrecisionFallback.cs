namespace DistillSharp.Quantization;

/// <summary>
/// Mixed-precision fallback: keeps the most quantization-sensitive layers in float32 until a task
/// metric is within tolerance of its float32 value.
/// </summary>
public static class PrecisionFallback
{
    /// <summary>
    /// Walks layers from the worst SQNR up; after each addition evaluates
    /// <paramref name="metric"/>(set of layers kept in fp32) and stops as soon as
    /// fp32Metric − metric ≤ <paramref name="tolerance"/> (higher metric = better). Returns the
    /// layers to keep in fp32 (empty when full quantization already passes) and the metric reached.
    /// </summary>
    public static (IReadOnlyList<string> Fp32Layers, double Metric) SelectFp32Layers(
        SensitivityReport report, Func<IReadOnlySet<string>, double> metric, double fp32Metric, double tolerance)
    {
        if (!(tolerance >= 0)) throw new DistillSharpException($"fallback tolerance must be ≥ 0, got {tolerance}");
        var kept = new List<string>();
        var current = metric(new HashSet<string>());
        foreach (var row in report.Rows.OrderBy(r => r.SqnrDb))
        {
            if (fp32Metric - current <= tolerance) break;
            kept.Add(row.Name);
            current = metric(kept.ToHashSet());
        }
        return (kept, current);
    }
}

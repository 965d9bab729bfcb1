using DistillSharp.Config.Encoder;
using static System.FormattableString;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>A student row the selection may choose: its quality (absolute and as a fraction of the teacher's), batch-1 p50 and size.</summary>
public sealed record Candidate(string Variant, string Student, double Quality, double QualityRatio, double P50Ms, long? Bytes);

/// <summary>What <see cref="StudentSelector.Select"/> decided: the passing rows best first, the choice (null = none passes) and why.</summary>
public sealed record Selection(SelectConfig Constraint, IReadOnlyList<Candidate> Passed, Candidate? Chosen, string Reason);

/// <summary>
/// The frontier's two decisions, pure functions of measured rows. Pareto: a point is dominated when
/// another is at most as slow and at least as good, strictly better in one (equal points dominate
/// neither). Selection: <c>min_quality</c> keeps rows with quality ratio ≥ the value and picks the
/// fastest; <c>max_latency_ms</c> / <c>max_bytes</c> keep rows within the cap and pick the best
/// quality (a row with no size on disk cannot pass a size cap). Ties go to the better second
/// criterion (quality, or latency), then the smaller file, then the earlier row.
/// </summary>
public static class StudentSelector
{
    /// <summary>For each point (latency: lower is better, quality: higher is better), whether it is non-dominated.</summary>
    public static bool[] ParetoFront(IReadOnlyList<(double Latency, double Quality)> points)
    {
        var front = new bool[points.Count];
        for (int i = 0; i < points.Count; i++)
        {
            var p = points[i];
            front[i] = !points.Where((_, j) => j != i).Any(q =>
                q.Latency <= p.Latency && q.Quality >= p.Quality && (q.Latency < p.Latency || q.Quality > p.Quality));
        }
        return front;
    }

    /// <summary>Applies <paramref name="constraint"/> to <paramref name="candidates"/> (in row order); <paramref name="metric"/> names the quality in the reason.</summary>
    public static Selection Select(SelectConfig constraint, IReadOnlyList<Candidate> candidates, string metric)
    {
        var indexed = candidates.Select((c, i) => (C: c, I: i)).ToList();
        IOrderedEnumerable<(Candidate C, int I)> passing = constraint.Key switch
        {
            SelectConfig.MinQuality => indexed.Where(x => x.C.QualityRatio >= constraint.Value)
                .OrderBy(x => x.C.P50Ms).ThenByDescending(x => x.C.Quality),
            SelectConfig.MaxLatencyMs => indexed.Where(x => x.C.P50Ms <= constraint.Value)
                .OrderByDescending(x => x.C.Quality).ThenBy(x => x.C.P50Ms),
            SelectConfig.MaxBytes => indexed.Where(x => x.C.Bytes is long b && b <= constraint.Value)
                .OrderByDescending(x => x.C.Quality).ThenBy(x => x.C.P50Ms),
            _ => throw new ArgumentException($"unknown select constraint '{constraint.Key}'"),
        };
        var passed = passing.ThenBy(x => x.C.Bytes ?? long.MaxValue).ThenBy(x => x.I).Select(x => x.C).ToList();
        var chosen = passed.FirstOrDefault();
        return new Selection(constraint, passed, chosen, Reason(constraint, candidates, passed, chosen, metric));
    }

    static string Reason(SelectConfig k, IReadOnlyList<Candidate> all, IReadOnlyList<Candidate> passed, Candidate? chosen, string metric)
    {
        string rule = k.Key switch
        {
            SelectConfig.MinQuality => Invariant($"{k.Key} {k.Value:G4}: rows keeping ≥ {Pct(k.Value)} of the teacher's {metric}, the fastest (batch-1 p50) wins"),
            SelectConfig.MaxLatencyMs => Invariant($"{k.Key} {k.Value:G4}: rows with batch-1 p50 ≤ {k.Value:G4} ms, the best {metric} wins"),
            _ => Invariant($"{k.Key} {k.Value:G6}: rows whose model files total ≤ {k.Value:N0} bytes, the best {metric} wins"),
        };
        if (all.Count == 0) return $"{rule}; no student row was measured, so nothing was deployed to student/";
        if (chosen is null)
        {
            var best = k.Key switch
            {
                SelectConfig.MinQuality => all.MaxBy(c => c.QualityRatio)!,
                SelectConfig.MaxLatencyMs => all.MinBy(c => c.P50Ms)!,
                _ => all.Where(c => c.Bytes is not null).MinBy(c => c.Bytes) ?? all[0],
            };
            return $"{rule}; none of {all.Count} rows passes (closest: {Describe(best)}), so nothing was deployed to student/";
        }
        return $"{rule}; {passed.Count} of {all.Count} rows pass ({string.Join(", ", passed.Select(c => c.Variant))}); " +
               $"chosen {Describe(chosen)}; student {chosen.Student} deployed to student/";
    }

    static string Pct(double fraction) => Invariant($"{100 * fraction:F1}%");

    static string Describe(Candidate c) =>
        Invariant($"{c.Variant} ({c.Quality:F4} = {Pct(c.QualityRatio)} of the teacher, p50 {c.P50Ms:G4} ms") +
        (c.Bytes is long b ? Invariant($", {b:N0} bytes)") : ", size unknown)");
}

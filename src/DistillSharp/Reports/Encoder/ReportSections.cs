using System.Text;
using static System.FormattableString;
using static DistillSharp.Reports.ReportFormat;

namespace DistillSharp.Reports.Encoder;

/// <summary>The report.md sections after the summary: targets, distillation facts, training per stage.</summary>
static class ReportSections
{
    /// <summary>One row per target: goal, measured, met or missed, and by how much.</summary>
    public static void Targets(StringBuilder md, IReadOnlyList<TargetResult> targets)
    {
        md.AppendLine("## Targets").AppendLine();
        md.AppendLine("| target | goal | measured | result | by | note |").AppendLine("|---|--:|--:|---|--:|---|");
        foreach (var t in targets)
        {
            string sign = t.Comparison == TargetComparison.AtMost ? "≤ " : "≥ ";
            string goal = t.Goal is null ? Missing : sign + WithUnit(t.Goal, t.Unit);
            string result = t.IsMet switch { true => "met", false => "**missed**", null => Missing };
            md.AppendLine($"| {Cell(t.Name)} | {goal} | {WithUnit(t.Measured, t.Unit)} | {result} | {By(t)} | {Cell(t.Note ?? "")} |");
        }
        int met = targets.Count(t => t.IsMet == true), missed = targets.Count(t => t.IsMet == false);
        md.AppendLine().AppendLine($"{met} of {targets.Count} targets met" + (missed > 0 ? $", {missed} missed." : ".")).AppendLine();
    }

    /// <summary>"+0.012 (+1.3%)": how far the measured value lies on the good side of the goal.</summary>
    static string By(TargetResult t)
    {
        if (t.Margin is not double margin || t.Goal is not double goal) return Missing;
        string absolute = (margin >= 0 ? "+" : "−") + WithUnit(Math.Abs(margin), t.Unit);
        return goal == 0 ? absolute : $"{absolute} ({(margin >= 0 ? "+" : "−")}{Percent(Math.Abs(margin / goal))})";
    }

    /// <summary>Steps, time, skipped steps and teacher-cache use.</summary>
    public static void Distillation(StringBuilder md, DistillationSummary d)
    {
        md.AppendLine("## Distillation").AppendLine();
        if (d.Steps is long steps)
        {
            string state = d.Completed switch { true => " (all stages completed)", false => " (stopped early)", null => "" };
            md.AppendLine(Invariant($"- optimizer steps: {steps:N0}{state}"));
        }
        if (d.SkippedSteps is int skipped) md.AppendLine($"- skipped steps (non-finite loss or gradient): {skipped}");
        if (d.Seconds is double s)
        {
            string rate = d.Steps is long n && s > 0 ? $" ({Auto(n / s)} steps/s)" : "";
            md.AppendLine($"- wall time: {Duration(s)}{rate}");
        }
        if (d.CacheHits is not null || d.CacheMisses is not null)
        {
            long hits = d.CacheHits ?? 0, misses = d.CacheMisses ?? 0;
            string share = hits + misses > 0 ? $" ({Percent((double)hits / (hits + misses))} hits)" : "";
            md.AppendLine(Invariant($"- teacher-output cache: {hits:N0} hits, {misses:N0} misses{share}"));
        }
        if (d.CorpusTexts is { Count: > 0 } corpus)
            md.AppendLine(Invariant($"- corpus: {corpus.Values.Sum():N0} texts ({string.Join(", ", corpus.Select(kv => Invariant($"{kv.Key} {kv.Value:N0}")))})"));
        if (d.HeldOutDomains is { Count: > 0 } heldOut)
            md.AppendLine($"- held-out domain (never in the corpus): {string.Join(", ", heldOut)}");
        md.AppendLine();
    }

    /// <summary>Per stage: steps, first/last/lowest total loss, from metrics.jsonl.</summary>
    public static void Training(StringBuilder md, MetricsTable metrics)
    {
        md.AppendLine("## Training").AppendLine();
        var stages = metrics.Stages();
        if (stages.Count == 0)
        {
            md.AppendLine($"`{Path.GetFileName(metrics.Path)}` holds no records.").AppendLine();
            return;
        }
        var (steps, losses) = metrics.Series("loss");
        md.AppendLine("| stage | steps | first loss | last loss | lowest loss |").AppendLine("|---|--:|--:|--:|--:|");
        foreach (var span in stages)
        {
            var inStage = steps.Zip(losses).Where(p => p.First > span.StartStep && p.First <= span.EndStep).Select(p => p.Second).ToList();
            md.AppendLine($"| {Cell(span.Name)} | {span.StartStep + 1}–{span.EndStep} | {Auto(inStage.FirstOrDefaultOrNull())} "
                          + $"| {Auto(inStage.LastOrDefaultOrNull())} | {Auto(inStage.Count > 0 ? inStage.Min() : null)} |");
        }
        md.AppendLine();
        if (metrics.BadLines > 0)
            md.AppendLine($"{metrics.BadLines} malformed line(s) in `{Path.GetFileName(metrics.Path)}` were skipped (a killed run leaves a torn last line).").AppendLine();
    }

    static double? FirstOrDefaultOrNull(this List<double> values) => values.Count > 0 ? values[0] : null;

    static double? LastOrDefaultOrNull(this List<double> values) => values.Count > 0 ? values[^1] : null;
}

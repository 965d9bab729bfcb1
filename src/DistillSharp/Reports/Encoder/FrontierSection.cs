using System.Text;
using static DistillSharp.Reports.ReportFormat;

namespace DistillSharp.Reports.Encoder;

/// <summary>The report.md section of a multi-student run: the frontier's points and what <c>select:</c> deployed, and why.</summary>
static class FrontierSection
{
    /// <summary>One row per point (quality, share of the teacher's, p50, size, non-dominated, passed the selection), then the selection.</summary>
    public static void Write(StringBuilder md, FrontierReport frontier)
    {
        md.AppendLine("## Frontier").AppendLine();
        var passed = frontier.Selection?.Passed ?? [];
        md.AppendLine($"Quality = `{Cell(frontier.Metric ?? "?")}`, latency = batch-1 p50 of the same benchmark as the summary (one run, so the ratios are comparable). "
                      + "Non-dominated: no other point is at least as fast and at least as good, and strictly better in one.").AppendLine();
        md.AppendLine("| variant | student | quality | vs teacher | p50 (ms) | size (MB) | non-dominated | passes select |")
          .AppendLine("|---|---|--:|--:|--:|--:|---|---|");
        foreach (var p in frontier.Points ?? [])
        {
            string pass = frontier.Selection is null || p.Student is null ? "" : passed.Contains(p.Variant) ? "yes" : "no";
            string front = p.Pareto switch { true => "**yes**", false => "no", null => Missing };
            md.AppendLine($"| {Cell(p.Variant)} | {Cell(p.Student ?? "(teacher)")} | {Fixed(p.Quality, 4)} | {Percent(p.QualityRatio)} | {Auto(p.P50Ms)} "
                          + $"| {Megabytes(p.FileBytes)} | {front} | {pass} |");
        }
        md.AppendLine();
        if (frontier.Selection is { } s)
        {
            md.AppendLine(s.Deployed is { } d
                ? $"**Deployed to `student/`: {Cell(d)}** (row `{Cell(s.Chosen)}`). {s.Reason}"
                : $"**Nothing deployed to `student/`.** {s.Reason}").AppendLine();
        }
        else md.AppendLine("No `select:` section: no student was deployed to `student/`; each student is in `students/NAME/`.").AppendLine();
    }
}

using System.Text;
using static DistillSharp.Reports.ReportFormat;

namespace DistillSharp.Reports.Decoder;

/// <summary>report.md of an LM run: models (size, memory, perplexity, speed), phases, samples, notes.</summary>
public static class LmReportWriter
{
    /// <summary>Variant order in tables and plots.</summary>
    public static IReadOnlyList<string> Ordered(LmReport report) =>
        new[] { "teacher", "student", "student_int8", "scratch" }.Where(report.Models.ContainsKey)
            .Concat(report.Models.Keys.Where(k => k is not ("teacher" or "student" or "student_int8" or "scratch"))).ToList();

    /// <summary>The Markdown text; <paramref name="plots"/> are file names under plots/ to embed.</summary>
    public static string Markdown(LmReport report, IReadOnlyList<string> plots)
    {
        var md = new StringBuilder();
        md.AppendLine("# Language-model distillation report").AppendLine();
        md.AppendLine($"Config `{report.Run.Config}`, started {report.Run.Started}, {Duration(report.Run.Seconds)} with {report.Run.Threads} thread(s)"
            + (report.Run.MaxSteps is long cap ? $", every training phase capped at --max-steps {cap}." : ".")).AppendLine();

        var batches = report.Models.Values.SelectMany(m => m.Speed ?? []).Select(s => s.Batch).Distinct().Order().ToList();
        md.Append("| model | params | fp32 MB | file MB | RSS Δ MB | held-out ppl |");
        foreach (int b in batches) md.Append($" prefill tok/s b{b} | decode tok/s b{b} |");
        md.AppendLine().Append("|---|---:|---:|---:|---:|---:|");
        foreach (int _ in batches) md.Append("---:|---:|");
        md.AppendLine();
        foreach (string name in Ordered(report))
        {
            var m = report.Models[name];
            md.Append($"| {Cell(name)} | {Params(m.Params)} | {Megabytes(m.ParamBytes)} | {Megabytes(m.FileBytes)} | {Megabytes(m.RssDeltaBytes)} | {Fixed(m.Perplexity, 2)} |");
            foreach (int b in batches)
            {
                var s = m.Speed?.FirstOrDefault(x => x.Batch == b);
                md.Append($" {Auto(s?.PrefillTokensPerSecond)} | {Auto(s?.DecodeTokensPerSecond)} |");
            }
            md.AppendLine();
        }
        md.AppendLine();
        if (report.Models.TryGetValue("teacher", out var t) && report.Models.TryGetValue("student", out var st))
            md.AppendLine($"Student vs teacher: {Times(Ratio(t.Params, st.Params))} fewer parameters, "
                + $"decode at batch 1 {Times(Ratio(st.DecodeTokensPerSecond(1), t.DecodeTokensPerSecond(1)))} faster, "
                + $"perplexity {Fixed(st.Perplexity, 2)} vs {Fixed(t.Perplexity, 2)}"
                + (report.Models.TryGetValue("scratch", out var sc) ? $" (scratch student: {Fixed(sc.Perplexity, 2)})." : ".")).AppendLine();

        md.AppendLine("## Phases").AppendLine();
        md.AppendLine("| phase | steps | time | s/step | CPU s/step | last loss |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var p in report.Phases)
            md.AppendLine($"| {Cell(p.Name)}{(p.Cached ? " (cached)" : "")} | {p.Steps} | {Duration(p.Seconds)} | {Fixed(p.SecondsPerStep, 3)} | {Fixed(p.CpuSecondsPerStep, 3)} | {Fixed(p.FinalLoss, 3)} |");
        md.AppendLine();
        if (report.SeqKd is { } seq)
            md.AppendLine($"Sequence-level KD: {seq.Examples} teacher responses ({seq.ResponseTokens:N0} tokens) in `{seq.File}`, generated in {Duration(seq.GenerateSeconds)}.").AppendLine();
        if (report.Kd is { } k)
            md.AppendLine($"Token-level KD: loss `{k.Loss}`, temperature {Auto(k.Temperature)}, teacher top-{k.TopK}"
                + (k.CacheBytesPerToken is double bpt ? $", sparse cache {Auto(bpt)} bytes/token." : ".")).AppendLine();

        foreach (string plot in plots) md.AppendLine($"![{Path.GetFileNameWithoutExtension(plot)}](plots/{plot})").AppendLine();

        md.AppendLine("## Samples").AppendLine();
        foreach (string name in Ordered(report))
        {
            if (report.Models[name].Samples is not { Count: > 0 } samples) continue;
            md.AppendLine($"### {name}").AppendLine();
            foreach (var sample in samples)
                md.AppendLine($"- **{Escape(sample.Prompt)}**{Escape(sample.Text)}");
            md.AppendLine();
        }
        if (report.Notes.Count > 0)
        {
            md.AppendLine("## Notes").AppendLine();
            foreach (string note in report.Notes) md.AppendLine($"- {note}");
        }
        return md.ToString();
    }

    static string Escape(string text) => text.Replace("\r", " ").Replace("\n", " ⏎ ").Replace("*", "\\*").Replace("_", "\\_");
}

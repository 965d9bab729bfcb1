using DistillSharp.Reports.Plots;

namespace DistillSharp.Reports.Encoder;

/// <summary>What the plots are drawn from; any part may be missing.</summary>
/// <param name="Report">report.json.</param>
/// <param name="Metrics">The distilled student's metrics.jsonl.</param>
/// <param name="Baseline">The baseline's metrics.jsonl (same student, no teacher).</param>
public sealed record PlotInputs(RunReport? Report, MetricsTable? Metrics, MetricsTable? Baseline);

/// <summary>
/// The report's plots, one row per PNG in <c>plots/</c>: file name, title, and how to draw it.
/// A plot whose inputs are missing is skipped (and a stale copy from an earlier run removed).
/// </summary>
public static class ReportPlots
{
    /// <summary>The folder under the run folder that holds the PNGs.</summary>
    public const string Folder = "plots";

    static readonly (string File, string Title, Func<PlotInputs, string, bool> Draw)[] Table =
    [
        ("loss.png", "Loss", (i, p) => i.Metrics != null && LossPlot.Write(i.Metrics, p)),
        ("lr.png", "Learning rate", (i, p) => i.Metrics != null
            && TrainingCurvePlot.Write(i.Metrics, "lr", "Learning rate", "learning rate", p, noisy: false)),
        ("grad_norm.png", "Gradient norm", (i, p) => i.Metrics != null
            && TrainingCurvePlot.Write(i.Metrics, "grad_norm", "Gradient norm (before clipping)", "global L2 norm", p, noisy: true)),
        ("activations.png", "Activations", (i, p) => i.Metrics != null && ActivationsPlot.Write(i.Metrics, p)),
        ("quality_vs_latency.png", "Quality vs latency", (i, p) => i.Report != null && QualityLatencyPlot.Write(i.Report, p)),
        ("frontier.png", "Speed–quality frontier", (i, p) => i.Report != null && FrontierPlot.Write(i.Report, p)),
        ("baseline_vs_student.png", "Distilled student vs baseline", (i, p) => i.Metrics != null && i.Baseline != null
            && BaselineComparisonPlot.Write(i.Metrics, i.Baseline, i.Report, p)),
    ];

    /// <summary>Every plot file name with its title, in report order.</summary>
    public static IReadOnlyList<(string File, string Title)> Titles { get; } = Table.Select(t => (t.File, t.Title)).ToList();

    /// <summary>Draws every plot the inputs allow into <c>runDir/plots/</c>; returns the paths written.</summary>
    public static IReadOnlyList<string> WriteAll(PlotInputs inputs, string runDir)
    {
        string folder = Path.Combine(runDir, Folder);
        var written = new List<string>();
        foreach (var (file, _, draw) in Table)
        {
            string path = Path.Combine(folder, file);
            if (draw(inputs, path)) written.Add(path);
            else if (File.Exists(path)) File.Delete(path);
        }
        return written;
    }
}

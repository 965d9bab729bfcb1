using ScottPlot;

namespace DistillSharp.Reports.Plots;

/// <summary>
/// activations.png: per-layer max |x| and standard deviation of the student's hidden states over
/// the steps that logged them (<c>act/&lt;layer&gt;/absmax|std</c>); two panels side by side.
/// Growing max |x| is what later makes INT8 activation scales coarse.
/// </summary>
public static class ActivationsPlot
{
    /// <summary>Writes the plot; false (nothing written) when no activation statistics were logged.</summary>
    public static bool Write(MetricsTable metrics, string path)
    {
        var layers = metrics.ActivationLayers;
        if (layers.Count == 0) return false;
        var absmax = Panel(metrics, layers, "absmax", "Max |activation| per layer", "max |x|");
        var std = Panel(metrics, layers, "std", "Activation std per layer", "std");
        Figure.SaveSideBySide([absmax, std], path);
        return true;
    }

    static Plot Panel(MetricsTable metrics, IReadOnlyList<int> layers, string stat, string title, string yLabel)
    {
        var series = layers.Select(l => (Layer: l, Data: metrics.Series($"act/{l}/{stat}"))).Where(s => s.Data.Steps.Length > 0).ToList();
        bool log = SeriesMath.IsWide(series.SelectMany(s => s.Data.Values));
        var plot = Figure.CreateStepPlot(title, log ? yLabel + " (log scale)" : yLabel);
        var plotted = new List<double>();
        foreach (var (layer, (steps, values)) in series)
        {
            string name = layer == 0 ? "embeddings" : $"layer {layer}";
            double[] ys = log ? Figure.Log10(values) : values;
            plotted.AddRange(ys);
            Figure.Line(plot, steps, ys, name, Figure.Color(layer));
        }
        if (log) Figure.LogTicksY(plot);
        else Figure.CompactTicksY(plot);
        Figure.MarkStages(plot, metrics.Stages(), plotted);
        Figure.LegendOutside(plot, below: true);
        return plot;
    }
}

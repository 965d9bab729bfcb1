using DistillSharp.Quantization;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Quantization;

public class SensitivityTests
{
    [Fact]
    public void OneRowPerLayerWithFiniteSqnr()
    {
        using var scope = NewDisposeScope();
        var model = TinyMlp.Sequential();
        var batches = TinyMlp.Batches(2);
        var q = new PostTrainingQuantizer(new PtqOptions(WeightBits: 4, ActivationBits: 8)).Quantize(model, batches);
        var report = SensitivityAnalyzer.Analyze(model, q, batches);
        Assert.Equal(new[] { "fc1", "fc2" }, report.Rows.Select(r => r.Name));
        foreach (var r in report.Rows)
        {
            Assert.InRange(r.SqnrDb, 10, 60);
            Assert.Equal(Math.Pow(10, -r.SqnrDb / 20), r.RelError, 6);     // rel_error = 10^(-SQNR/20) by definition
        }
        Assert.Contains("| fc1 |", report.ToMarkdown());
    }

    [Fact]
    public void FallbackKeepsWorstLayersUntilWithinTolerance()
    {
        // Synthetic metric: fp32 = 1.0; every quantized layer costs its listed penalty.
        var report = new SensitivityReport([new("a", 40, 0.01), new("b", 20, 0.1), new("c", 30, 0.03)]);
        var penalty = new Dictionary<string, double> { ["a"] = 0.001, ["b"] = 0.05, ["c"] = 0.02 };
        double Metric(IReadOnlySet<string> fp32) => 1.0 - penalty.Where(p => !fp32.Contains(p.Key)).Sum(p => p.Value);
        var (kept, metric) = PrecisionFallback.SelectFp32Layers(report, Metric, 1.0, tolerance: 0.025);
        Assert.Equal(new[] { "b" }, kept);                                  // dropping b leaves 0.021 ≤ 0.025
        Assert.Equal(0.979, metric, 9);
        var (all, _) = PrecisionFallback.SelectFp32Layers(report, Metric, 1.0, tolerance: 0.0);
        Assert.Equal(new[] { "b", "c", "a" }, all);
    }
}

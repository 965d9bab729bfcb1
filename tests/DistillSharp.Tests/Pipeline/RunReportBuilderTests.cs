using DistillSharp.Benchmarks;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Distillation;

namespace DistillSharp.Tests.Pipeline;

public class RunReportBuilderTests
{
    static VariantMeasurement Variant(double p50, double r10, double f1, long bytes) => new(
        1000, bytes,
        new Dictionary<string, IReadOnlyDictionary<string, double>>
        {
            ["wordnet_retrieval"] = new Dictionary<string, double> { ["r10"] = r10 },
            ["spam_f1"] = new Dictionary<string, double> { ["f1"] = f1 },
        },
        BenchResult.FromSamples("x", 1, 64, [p50]), BenchResult.FromSamples("x", 32, 64, [p50 * 10]), "test");

    [Fact]
    public void TargetsCompareStudentsWithTeacherAndBaseline()
    {
        var variants = new Dictionary<string, VariantMeasurement>
        {
            ["teacher"] = Variant(10, 0.60, 0.90, 90_000_000),
            ["student"] = Variant(4, 0.57, 0.85, 70_000_000),
            ["student_int8"] = Variant(1.5, 0.56, 0.84, 18_000_000),
            ["baseline"] = Variant(4, 0.40, 0.84, 70_000_000),
        };
        var report = RunReportBuilder.Build("test", variants,
            new TrainingResult(10, true, 0, 60, double.NaN, 0, 0, 0), seconds: 900, notes: []);
        var t = report.Targets!.ToDictionary(x => x.Name);
        // By hand: 4/10 = 0.4 (missed ≤ 0.2); 1.5/10 = 0.15 (met); 0.57/0.60 = 0.95; 0.85/0.90 = 0.9444.
        Assert.Equal(0.4, t["student batch-1 latency / teacher"].Measured);
        Assert.False(t["student batch-1 latency / teacher"].IsMet);
        Assert.Equal(0.15, t["student_int8 batch-1 latency / teacher"].Measured);
        Assert.True(t["student_int8 batch-1 latency / teacher"].IsMet);
        Assert.Equal(0.95, t["student R@10 / teacher"].Measured);
        Assert.Equal(0.9444, t["student spam F1 / teacher"].Measured);
        // 0.57 − 0.40 = 0.17 (met); 0.85 − 0.84 = 0.01 (missed: not clearly above).
        Assert.True(t["student − baseline R@10"].IsMet);
        Assert.False(t["student − baseline spam F1"].IsMet);
        Assert.Equal(Math.Round(18.0 / 70, 3), t["student_int8 file / student fp32 file"].Measured);
        Assert.Equal(15.0, t["whole run wall time"].Measured);
        Assert.True(t["whole run wall time"].IsMet);
    }
}

public class MemoizedEmbedTests
{
    [Fact]
    public void EachDistinctTextIsEmbeddedOnceAndOrderIsKept()
    {
        var calls = new List<string>();
        var embed = VariantMeasurer.Memoized(texts =>
        {
            calls.AddRange(texts);
            return texts.Select(t => new float[] { t.Length }).ToArray();
        });
        Assert.Equal(new[] { 1f, 3f, 1f }, embed(["a", "abc", "a"]).Select(e => e[0]));
        Assert.Equal(new[] { 2f, 3f }, embed(["ab", "abc"]).Select(e => e[0]));
        Assert.Equal(new[] { "a", "abc", "ab" }, calls);
    }
}

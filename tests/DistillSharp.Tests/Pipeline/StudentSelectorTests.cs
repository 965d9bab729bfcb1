using DistillSharp.Benchmarks;
using DistillSharp.Config;
using DistillSharp.Config.Encoder;
using DistillSharp.Pipeline.Encoder;

namespace DistillSharp.Tests.Pipeline;

/// <summary>Pareto front and <c>select:</c> on hand-built points; every expected value is worked out by hand in the comments.</summary>
public class StudentSelectorTests
{
    static Candidate C(string variant, double quality, double p50, long? bytes = 1000, double teacher = 0.6) =>
        new(variant, variant.Split('_')[0], quality, quality / teacher, p50, bytes);

    [Fact]
    public void ParetoFrontKeepsExactlyTheNonDominatedPoints()
    {
        (double, double)[] points =
        [
            (1.0, 0.50), // front: nothing is faster with ≥ 0.50 except (0.5, 0.40), which is worse
            (2.0, 0.60), // front
            (3.0, 0.55), // dominated by (2.0, 0.60): slower and worse
            (2.0, 0.60), // an equal twin: equal points dominate neither, both stay
            (0.5, 0.40), // front: the fastest
            (4.0, 0.70), // front: the best
            (1.0, 0.45), // dominated by (1.0, 0.50): as fast, worse
            (4.0, 0.70 - 1e-9), // dominated by (4.0, 0.70)
        ];
        Assert.Equal([true, true, false, true, true, true, false, false], StudentSelector.ParetoFront(points));
        Assert.Equal([true], StudentSelector.ParetoFront([(3.0, 0.1)]));
        Assert.Empty(StudentSelector.ParetoFront([]));
    }

    [Fact]
    public void MinQualityPicksTheFastestRowThatKeepsEnough()
    {
        // Teacher quality 0.6; 0.9 × 0.6 = 0.54: a (0.57) and a_int8 (0.552) pass, b (0.51) and b_int8 (0.48) do not.
        var rows = new[] { C("a", 0.57, 5), C("a_int8", 0.552, 2), C("b", 0.51, 1), C("b_int8", 0.48, 0.5) };
        var s = StudentSelector.Select(new SelectConfig(SelectConfig.MinQuality, 0.9), rows, "wordnet_retrieval.r10");
        Assert.Equal(["a_int8", "a"], s.Passed.Select(c => c.Variant));
        Assert.Equal(("a_int8", "a"), (s.Chosen!.Variant, s.Chosen.Student));
        Assert.Contains("2 of 4 rows pass (a_int8, a)", s.Reason);
        Assert.Contains("student a deployed to student/", s.Reason);
        // Exactly at the bound passes: 0.54 / 0.6 = 0.9 (computed in the same floating-point way as the check).
        Assert.Equal("x", StudentSelector.Select(new SelectConfig(SelectConfig.MinQuality, 0.54 / 0.6), [C("x", 0.54, 9)], "q").Chosen!.Variant);
    }

    [Fact]
    public void TiesGoToQualityThenSizeThenRowOrder()
    {
        var q = new SelectConfig(SelectConfig.MinQuality, 0.5);
        // Same p50: the better quality wins.
        Assert.Equal("b", StudentSelector.Select(q, [C("a", 0.50, 1), C("b", 0.55, 1)], "q").Chosen!.Variant);
        // Same p50 and quality: the smaller file wins.
        Assert.Equal("b", StudentSelector.Select(q, [C("a", 0.5, 1, 2000), C("b", 0.5, 1, 1000)], "q").Chosen!.Variant);
        // Everything equal: the earlier row.
        Assert.Equal("a", StudentSelector.Select(q, [C("a", 0.5, 1), C("b", 0.5, 1)], "q").Chosen!.Variant);
        // Under a cap, equal quality: the faster row wins.
        var cap = new SelectConfig(SelectConfig.MaxLatencyMs, 10);
        Assert.Equal("b", StudentSelector.Select(cap, [C("a", 0.5, 3), C("b", 0.5, 2)], "q").Chosen!.Variant);
    }

    [Fact]
    public void CapsPickTheBestQualityWithinThem()
    {
        var rows = new[] { C("a", 0.57, 5, 90_000_000), C("a_int8", 0.552, 2, 23_000_000), C("b", 0.51, 1, 40_000_000), C("s", 0.50, 0.01, null) };
        // p50 ≤ 2 (2 itself passes): a_int8 (0.552), b, s → a_int8.
        var latency = StudentSelector.Select(new SelectConfig(SelectConfig.MaxLatencyMs, 2), rows, "q");
        Assert.Equal(["a_int8", "b", "s"], latency.Passed.Select(c => c.Variant));
        Assert.Equal("a_int8", latency.Chosen!.Variant);
        // ≤ 40 MB: a_int8 and b; s has no size on disk, so it cannot be shown to fit.
        var bytes = StudentSelector.Select(new SelectConfig(SelectConfig.MaxBytes, 40_000_000), rows, "q");
        Assert.Equal(["a_int8", "b"], bytes.Passed.Select(c => c.Variant));
        Assert.Equal("a_int8", bytes.Chosen!.Variant);
    }

    [Fact]
    public void NonePassingDeploysNothingAndSaysWhatCameClosest()
    {
        var rows = new[] { C("a", 0.50, 5), C("b", 0.52, 1) };
        var s = StudentSelector.Select(new SelectConfig(SelectConfig.MinQuality, 0.9), rows, "wordnet_retrieval.r10");
        Assert.Null(s.Chosen);
        Assert.Empty(s.Passed);
        // Closest = best ratio: b at 0.52 / 0.6 = 86.7%.
        Assert.Contains("none of 2 rows passes (closest: b (0.5200 = 86.7% of the teacher", s.Reason);
        Assert.EndsWith("nothing was deployed to student/", s.Reason);
        var fast = StudentSelector.Select(new SelectConfig(SelectConfig.MaxLatencyMs, 0.5), rows, "q");
        Assert.Null(fast.Chosen);
        Assert.Contains("closest: b (", fast.Reason);
        Assert.Contains("no student row was measured", StudentSelector.Select(new SelectConfig(SelectConfig.MaxBytes, 1), [], "q").Reason);
    }

    static VariantMeasurement Row(double r10, double p50, long bytes) => new(1, bytes,
        new Dictionary<string, IReadOnlyDictionary<string, double>> { ["wordnet_retrieval"] = new Dictionary<string, double> { ["r10"] = r10 } },
        BenchResult.FromSamples("x", 1, 64, [p50]), null, "test");

    [Fact]
    public void TheRunsFrontierMarksPointsAndSelectsAmongStudentRowsOnly()
    {
        var config = ConfigLoader.Parse<RunConfig>("""
            teacher: { source: builtin:all-MiniLM-L6-v2 }
            eval: [ spam-f1, wordnet-retrieval ]
            stages:
              - { name: a, steps: 1, losses: { embedding_cosine: 1 } }
            students:
              - { name: s, student: { kind: static } }
              - { name: l1, student: { layers: 1 } }
            select: { min_quality: 0.8 }
            """);
        var variants = new Dictionary<string, VariantMeasurement>
        {
            ["teacher"] = Row(0.60, 10, 90_000_000),
            ["s"] = Row(0.45, 0.01, 8_000_000),     // 75% of the teacher: fails 0.8
            ["l1"] = Row(0.54, 3, 60_000_000),      // 90%
            ["l1_int8"] = Row(0.50, 4, 16_000_000), // 83.3%, but slower and worse than l1: dominated
        };
        var rows = new List<(string, NamedStudent)> { ("s", config.Students![0]), ("l1", config.Students[1]), ("l1_int8", config.Students[1]) };
        var f = FrontierRunPipeline.Frontier(config, variants, rows);
        Assert.Equal("wordnet_retrieval.r10", f.Metric);
        Assert.Equal(["teacher", "s", "l1", "l1_int8"], f.Points!.Select(p => p.Variant));
        Assert.Equal([true, true, true, false], f.Points!.Select(p => p.Pareto!.Value));
        Assert.Equal([1.0, 0.75, 0.9, 0.83333], f.Points!.Select(p => p.QualityRatio!.Value));
        // Passing: l1 (p50 3) and l1_int8 (p50 4); the teacher is never a candidate; the fastest is l1.
        Assert.Equal(["l1", "l1_int8"], f.Selection!.Passed!);
        Assert.Equal(("l1", "l1"), (f.Selection.Chosen, f.Selection.Deployed));
    }
}

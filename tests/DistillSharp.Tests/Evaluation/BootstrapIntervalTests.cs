using DistillSharp.Evaluation;

namespace DistillSharp.Tests.Evaluation;

public class BootstrapIntervalTests
{
    static (List<bool> Predicted, List<bool> Actual) Pattern(int n)
    {
        // Half positives; every 10th example (i % 10 == 3, always a negative) predicted positive.
        var actual = Enumerable.Range(0, n).Select(i => i % 2 == 0).ToList();
        var predicted = actual.Select((a, i) => i % 10 == 3 ? !a : a).ToList();
        return (predicted, actual);
    }

    [Fact]
    public void PerfectPredictionsHaveADegenerateInterval()
    {
        var labels = Enumerable.Range(0, 50).Select(i => i % 3 == 0).ToList();
        Assert.Equal((1.0, 1.0), BootstrapInterval.Of(labels, labels, c => c.F1));
    }

    [Fact]
    public void IntervalContainsTheEstimateAndNarrowsLikeOneOverRootN()
    {
        var (p1, a1) = Pattern(200);
        var (p2, a2) = Pattern(20000);
        double f1 = ClassificationMetrics.Count(p1, a1).F1;     // TP 100, FP 20, FN 0: F1 = 200 / 220
        Assert.Equal(10.0 / 11, f1, 9);
        var small = BootstrapInterval.Of(p1, a1, c => c.F1);
        var large = BootstrapInterval.Of(p2, a2, c => c.F1, resamples: 200);
        Assert.InRange(f1, small.Low, small.High);
        // 100× the examples → about 1/10 the width (binomial standard error ∝ 1/√n).
        double ratio = (small.High - small.Low) / (large.High - large.Low);
        Assert.InRange(ratio, 7, 14);
        // Width of the order of the normal approximation 2·1.96·√(p(1−p)/n) for n = 200, p = 0.9: 0.083.
        Assert.InRange(small.High - small.Low, 0.06, 0.11);
    }

    [Fact]
    public void SameSeedSameInterval() =>
        Assert.Equal(BootstrapInterval.Of(Pattern(300).Predicted, Pattern(300).Actual, c => c.Accuracy),
                     BootstrapInterval.Of(Pattern(300).Predicted, Pattern(300).Actual, c => c.Accuracy));
}

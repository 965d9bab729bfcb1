using DistillSharp.Reports;
using DistillSharp.Reports.Plots;

namespace DistillSharp.Tests.Reports;

public sealed class SeriesMathTests
{
    [Theory]
    [InlineData(new[] { 1.0, 100.0 }, true)]        // 100/1 ≥ 50
    [InlineData(new[] { 1.0, 10.0 }, false)]        // 10 < 50
    [InlineData(new[] { 0.0, 100.0 }, false)]       // a log axis cannot show 0
    [InlineData(new[] { -1.0, 100.0 }, false)]
    [InlineData(new double[0], false)]
    public void LogAxisOnlyForWidePositiveRanges(double[] values, bool wide) => Assert.Equal(wide, SeriesMath.IsWide(values));

    [Fact]
    public void LogAxisThresholdCanBeLowered() => Assert.True(SeriesMath.IsWide([1.0, 10.0], ratio: 10));

    [Fact]
    public void EmaIsBiasCorrectedAndRestartsAtEachStage()
    {
        // α = 0.5 by hand: k=1 → 1; k=2 → (0.25·1 + 0.5·3) / (1 − 0.25) = 2.3333.
        // Stage b starts after step 2, so it restarts: 10, then (0.25·10 + 0.5·20) / 0.75 = 16.6667.
        StageSpan[] stages = [new("a", 0, 2), new("b", 2, 4)];
        double[] smoothed = SeriesMath.Ema([1, 2, 3, 4], [1, 3, 10, 20], stages, alpha: 0.5);
        Assert.Equal([1, 2.333333, 10, 16.666667], smoothed.Select(v => Math.Round(v, 6)));
    }

    [Fact]
    public void EmaOfAConstantIsTheConstant() =>
        Assert.All(SeriesMath.Ema([1, 2, 3, 4, 5], [5, 5, 5, 5, 5], [], alpha: 0.1), v => Assert.Equal(5, v, 12));

    [Fact]
    public void EmaRejectsABadAlpha()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => SeriesMath.Ema([1], [1], [], alpha: 0));
        Assert.Contains("(0, 1]", e.Message);
    }
}

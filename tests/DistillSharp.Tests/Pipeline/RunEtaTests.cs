using DistillSharp.Pipeline.Encoder;

namespace DistillSharp.Tests.Pipeline;

public class RunEtaTests
{
    [Fact]
    public void EtaIsUnknownWhileAPhaseToComeHasNoEstimate()
    {
        var eta = new RunEta(["a", "b"]);
        eta.Begin("a");
        eta.ReportRemaining(5);
        Assert.Null(eta.Remaining());                   // b has no estimate
        eta.Estimate("b", () => 7);
        Assert.Equal(12, eta.Remaining()!.Value, 6);    // 5 live + 7 estimated
    }

    [Fact]
    public void FinishedPhasesFeedTheEstimatesOfLaterOnes()
    {
        var eta = new RunEta(["measure", "train", "evaluate", "export"]);
        eta.Estimate("evaluate", () => eta.Measured("measure"));
        eta.Estimate("export", () => 0.5 * eta.Measured("measure"));
        eta.Begin("measure");
        Thread.Sleep(50);
        double measured = eta.End();
        eta.Begin("train");
        Assert.Null(eta.Remaining());                   // training has not reported yet
        eta.ReportRemaining(100);
        // 100 left in training + measured (evaluate) + measured / 2 (export)
        Assert.Equal(100 + 1.5 * measured, eta.Remaining()!.Value, 6);
        Assert.NotNull(eta.FirstFullPrediction);
        eta.End();
        // Between phases the remaining time is the sum of the estimates still to run.
        Assert.Equal(1.5 * measured, eta.Remaining()!.Value, 6);
    }

    [Fact]
    public void ARunningPhaseWithoutLiveReportCountsDownItsEstimateAndNeverGoesNegative()
    {
        var eta = new RunEta(["x"]);
        eta.Estimate("x", () => 0.01);
        eta.Begin("x");
        Thread.Sleep(30);
        Assert.Equal(0, eta.Remaining()!.Value);
    }

    [Fact]
    public void UnknownPhaseNamesAreRejectedWithTheKnownOnes()
    {
        var eta = new RunEta(["a"]);
        var e = Assert.Throws<ArgumentException>(() => eta.Begin("b"));
        Assert.Contains("phases: a", e.Message);
    }
}

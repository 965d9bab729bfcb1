using DistillSharp.Evaluation.Classifier;

namespace DistillSharp.Tests.Evaluation.Classifier;

/// <summary>Multi-class metrics, calibration and paired bootstrap; expected values computed by hand from the definitions.</summary>
public sealed class ClassifierMetricsTests
{
    static readonly int[] Actual = [0, 0, 1, 1, 2, 2, 2];
    static readonly int[] Predicted = [0, 1, 1, 1, 2, 0, 2];

    [Fact]
    public void ConfusionF1AndMacroF1()
    {
        var m = MulticlassMetrics.Count(Predicted, Actual, 4);
        Assert.Equal(1, m.Confusion[0, 0]);
        Assert.Equal(1, m.Confusion[0, 1]);
        Assert.Equal(1, m.Confusion[2, 0]);
        Assert.Equal(5.0 / 7, m.Accuracy, 12);
        // F1 = 2TP / (support + predicted): class 0: 2/(2+2), class 1: 4/(2+3), class 2: 4/(3+2); class 3 neither actual nor predicted.
        Assert.Equal([0.5, 0.8, 0.8, 0.0], m.PerClassF1());
        Assert.Equal((0.5 + 0.8 + 0.8) / 3, m.MacroF1, 12);                      // class 3 left out, as sklearn's default labels
        var sample = MulticlassMetrics.Count(Predicted, Actual, 4, [2, 3, 3]);  // only class 1, right three times
        Assert.Equal(1.0, sample.MacroF1);
        Assert.Equal(3, sample.Total);
    }

    [Fact]
    public void ExpectedCalibrationError()
    {
        // Two bins of [0, 0.5] and (0.5, 1]: {0.2 wrong, 0.4 right} → conf 0.3, acc 0.5; {0.9 right, 0.7 wrong, 1.0 right, 0.8 right} → conf 0.85, acc 0.75.
        var bins = Calibration.Bins([0.2, 0.4, 0.9, 0.7, 1.0, 0.8], [false, true, true, false, true, true], bins: 2);
        Assert.Equal([2, 4], bins.Select(b => b.Count));
        Assert.Equal(0.3, bins[0].Confidence, 12);
        Assert.Equal(0.75, bins[1].Accuracy, 12);
        Assert.Equal(2.0 / 6 * 0.2 + 4.0 / 6 * 0.1, Calibration.ExpectedError(bins), 12);
        Assert.Equal(15, Calibration.Bins([0.5], [true]).Count);
        Assert.Equal(7, Calibration.Bins([0.5], [true]).ToList().FindIndex(b => b.Count == 1));   // 0.5 ∈ (7/15, 8/15]
    }

    [Fact]
    public void ScoreTakesTheArgmaxAndItsProbability()
    {
        float[][] p = [[0.7f, 0.2f, 0.1f], [0.1f, 0.3f, 0.6f], [0.2f, 0.5f, 0.3f]];
        var score = ClassifierEvaluation.Score(p, [0, 1, 1], ["a", "b", "c"], resamples: 50);
        Assert.Equal([0, 2, 1], score.Predicted);
        Assert.Equal([0.7, 0.6, 0.5], score.Confidence.Select(c => Math.Round(c, 6)));
        Assert.Equal(2.0 / 3, score.Accuracy, 12);
        Assert.Equal(1.0, score.PerClassF1()["a"]);
        Assert.InRange(score.MacroF1, score.MacroF1Interval.Low, score.MacroF1Interval.High);
    }

    [Fact]
    public void PairedIntervalSeesWhatTheUnpairedOnesCannot()
    {
        // 2,000 texts, 4 classes; the baseline is right on 80%, the model on the same texts plus 2% more.
        int n = 2000;
        var actual = Enumerable.Range(0, n).Select(i => i % 4).ToArray();
        float[] OneHot(int c) => Enumerable.Range(0, 4).Select(k => k == c ? 0.9f : 0.1f / 3).ToArray();
        var baseline = actual.Select((a, i) => OneHot(i % 10 < 8 ? a : (a + 1) % 4)).ToArray();
        var model = actual.Select((a, i) => OneHot(i % 10 < 8 || i % 50 == 8 ? a : (a + 1) % 4)).ToArray();
        string[] labels = ["a", "b", "c", "d"];
        var sm = ClassifierEvaluation.Score(model, actual, labels, 500);
        var sb = ClassifierEvaluation.Score(baseline, actual, labels, 500);
        Assert.True(sm.MacroF1Interval.Low < sb.MacroF1Interval.High, "the unpaired intervals overlap");
        var paired = ClassifierEvaluation.PairedMacroF1(sm, sb, 500);
        Assert.Equal(sm.MacroF1 - sb.MacroF1, paired.Difference, 12);
        Assert.True(paired.Low > 0, $"paired interval [{paired.Low}, {paired.High}]");
        var self = ClassifierEvaluation.PairedMacroF1(sb, sb, 100);
        Assert.Equal((0.0, 0.0), (self.Low, self.High));
    }
}

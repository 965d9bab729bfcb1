namespace DistillSharp.Evaluation.Classifier;

/// <summary>A classifier's quality on a test set, everything the report and its plots show.</summary>
/// <param name="Labels">Label names by class id.</param>
/// <param name="Actual">Gold class ids of the test texts.</param>
/// <param name="Predicted">Predicted class ids (argmax of the probabilities).</param>
/// <param name="Confidence">The predicted class's probability.</param>
/// <param name="Metrics">The point metrics (C = <see cref="Labels"/>.Count).</param>
/// <param name="MacroF1Interval">95% percentile-bootstrap interval of macro-F1.</param>
/// <param name="AccuracyInterval">95% percentile-bootstrap interval of accuracy.</param>
/// <param name="Reliability">Confidence bins (<see cref="Calibration"/>).</param>
/// <param name="Ece">Expected calibration error of the bins.</param>
public sealed record ClassifierScore(IReadOnlyList<string> Labels, int[] Actual, int[] Predicted, double[] Confidence, MulticlassMetrics Metrics,
    (double Low, double High) MacroF1Interval, (double Low, double High) AccuracyInterval, IReadOnlyList<ReliabilityBin> Reliability, double Ece)
{
    /// <summary>Accuracy.</summary>
    public double Accuracy => Metrics.Accuracy;
    /// <summary>Macro-F1 over the classes.</summary>
    public double MacroF1 => Metrics.MacroF1;

    /// <summary>Per-class F1 by label name.</summary>
    public IReadOnlyDictionary<string, double> PerClassF1() =>
        Labels.Select((l, c) => (l, c)).ToDictionary(x => x.l, x => Metrics.F1(x.c), StringComparer.Ordinal);

    /// <summary>The scalar metrics as report keys.</summary>
    public IReadOnlyDictionary<string, double> Summary() => new Dictionary<string, double>
    {
        ["accuracy"] = Accuracy, ["accuracy_low"] = AccuracyInterval.Low, ["accuracy_high"] = AccuracyInterval.High,
        ["macro_f1"] = MacroF1, ["macro_f1_low"] = MacroF1Interval.Low, ["macro_f1_high"] = MacroF1Interval.High,
        ["ece"] = Ece, ["examples"] = Actual.Length,
    };
}

/// <summary>The difference of macro-F1 between two classifiers on the same test texts, with its paired bootstrap interval.</summary>
/// <param name="Difference">macro-F1(model) − macro-F1(baseline) on the whole test set.</param>
/// <param name="Low">2.5% quantile of the paired resampled differences.</param>
/// <param name="High">97.5% quantile.</param>
public sealed record PairedDifference(double Difference, double Low, double High);

/// <summary>Scores class probabilities against gold labels: metrics, bootstrap intervals, calibration.</summary>
public static class ClassifierEvaluation
{
    /// <summary>Scores <paramref name="probabilities"/> (one row of C per test text) against <paramref name="actual"/>.</summary>
    public static ClassifierScore Score(IReadOnlyList<float[]> probabilities, int[] actual, IReadOnlyList<string> labels, int resamples = 2000)
    {
        if (probabilities.Count != actual.Length) throw new ArgumentException($"{probabilities.Count} predictions for {actual.Length} labels");
        int n = actual.Length, classes = labels.Count;
        var predicted = new int[n];
        var confidence = new double[n];
        for (int i = 0; i < n; i++)
        {
            var p = probabilities[i];
            if (p.Length != classes) throw new ArgumentException($"prediction {i} has {p.Length} probabilities for {classes} labels");
            int best = 0;
            for (int c = 1; c < classes; c++) if (p[c] > p[best]) best = c;
            predicted[i] = best;
            confidence[i] = Math.Clamp(p[best], 0f, 1f);
        }
        var metrics = MulticlassMetrics.Count(predicted, actual, classes);
        var macro = BootstrapInterval.Resample(n, s => MulticlassMetrics.Count(predicted, actual, classes, s).MacroF1, resamples);
        var accuracy = BootstrapInterval.Resample(n, s => Accuracy(predicted, actual, s), resamples);
        var bins = Calibration.Bins(confidence, predicted.Select((p, i) => p == actual[i]).ToList());
        return new ClassifierScore(labels, actual, predicted, confidence, metrics, macro, accuracy, bins, Calibration.ExpectedError(bins));
    }

    /// <summary>macro-F1(<paramref name="model"/>) − macro-F1(<paramref name="baseline"/>) with the paired 95% bootstrap interval.</summary>
    public static PairedDifference PairedMacroF1(ClassifierScore model, ClassifierScore baseline, int resamples = 2000)
    {
        if (!model.Actual.SequenceEqual(baseline.Actual)) throw new ArgumentException("paired comparison needs both models scored on the same test texts");
        int classes = model.Labels.Count;
        var (low, high) = BootstrapInterval.Paired(model.Actual.Length,
            s => MulticlassMetrics.Count(model.Predicted, model.Actual, classes, s).MacroF1,
            s => MulticlassMetrics.Count(baseline.Predicted, baseline.Actual, classes, s).MacroF1, resamples);
        return new PairedDifference(model.MacroF1 - baseline.MacroF1, low, high);
    }

    static double Accuracy(int[] predicted, int[] actual, int[] sample)
    {
        int correct = 0;
        foreach (int k in sample) if (predicted[k] == actual[k]) correct++;
        return correct / (double)sample.Length;
    }
}

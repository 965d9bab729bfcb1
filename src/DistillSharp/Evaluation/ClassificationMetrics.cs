namespace DistillSharp.Evaluation;

/// <summary>Binary classification counts and the metrics derived from them (positive = true).</summary>
public sealed record ClassificationMetrics(int TruePositives, int FalsePositives, int TrueNegatives, int FalseNegatives)
{
    /// <summary>Counts predictions against labels.</summary>
    public static ClassificationMetrics Count(IReadOnlyList<bool> predicted, IReadOnlyList<bool> actual)
    {
        if (predicted.Count != actual.Count) throw new ArgumentException($"{predicted.Count} predictions for {actual.Count} labels");
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (int i = 0; i < actual.Count; i++)
        {
            if (predicted[i] && actual[i]) tp++;
            else if (predicted[i]) fp++;
            else if (actual[i]) fn++;
            else tn++;
        }
        return new(tp, fp, tn, fn);
    }

    /// <summary>F1 of the positive class: 2TP / (2TP + FP + FN); 0 when there is nothing positive at all.</summary>
    public double F1 => TruePositives == 0 ? 0 : 2.0 * TruePositives / (2.0 * TruePositives + FalsePositives + FalseNegatives);

    /// <summary>Share of correct predictions.</summary>
    public double Accuracy => (TruePositives + TrueNegatives) / (double)Math.Max(1, TruePositives + FalsePositives + TrueNegatives + FalseNegatives);

    /// <summary>TP / (TP + FP).</summary>
    public double Precision => TruePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN).</summary>
    public double Recall => TruePositives == 0 ? 0 : TruePositives / (double)(TruePositives + FalseNegatives);
}

namespace DistillSharp.Evaluation.Classifier;

/// <summary>One confidence bin of a reliability diagram.</summary>
/// <param name="Low">Lower edge (exclusive, except the first bin).</param>
/// <param name="High">Upper edge (inclusive).</param>
/// <param name="Count">Examples whose confidence falls in the bin.</param>
/// <param name="Confidence">Their mean confidence (max class probability); NaN when empty.</param>
/// <param name="Accuracy">Their share of correct predictions; NaN when empty.</param>
public sealed record ReliabilityBin(double Low, double High, int Count, double Confidence, double Accuracy);

/// <summary>
/// Expected calibration error (Guo et al. 2017, "On Calibration of Modern Neural Networks", eq. 3):
/// predictions are binned by confidence p̂ = max_c p_c into M equal-width bins on [0, 1]; then
/// ECE = Σ_m (|B_m| / n) · |acc(B_m) − conf(B_m)|. M = 15 as in the paper.
/// </summary>
public static class Calibration
{
    /// <summary>The paper's bin count.</summary>
    public const int DefaultBins = 15;

    /// <summary>The bins of (confidence, correct) pairs; bin m holds (m/M, (m+1)/M], the first also 0.</summary>
    public static IReadOnlyList<ReliabilityBin> Bins(IReadOnlyList<double> confidence, IReadOnlyList<bool> correct, int bins = DefaultBins)
    {
        if (confidence.Count != correct.Count) throw new ArgumentException($"{confidence.Count} confidences for {correct.Count} outcomes");
        if (bins < 1) throw new ArgumentOutOfRangeException(nameof(bins), bins, "at least one bin");
        var count = new int[bins];
        var confSum = new double[bins];
        var hits = new int[bins];
        for (int i = 0; i < confidence.Count; i++)
        {
            double p = confidence[i];
            if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(confidence), p, $"confidence {i} must be in [0, 1]");
            int m = Math.Clamp((int)Math.Ceiling(p * bins) - 1, 0, bins - 1);
            count[m]++;
            confSum[m] += p;
            if (correct[i]) hits[m]++;
        }
        return Enumerable.Range(0, bins).Select(m => new ReliabilityBin(m / (double)bins, (m + 1) / (double)bins, count[m],
            count[m] == 0 ? double.NaN : confSum[m] / count[m], count[m] == 0 ? double.NaN : hits[m] / (double)count[m])).ToList();
    }

    /// <summary>ECE of the bins (empty bins contribute nothing).</summary>
    public static double ExpectedError(IReadOnlyList<ReliabilityBin> bins)
    {
        long n = bins.Sum(b => (long)b.Count);
        return n == 0 ? 0 : bins.Where(b => b.Count > 0).Sum(b => b.Count / (double)n * Math.Abs(b.Accuracy - b.Confidence));
    }
}

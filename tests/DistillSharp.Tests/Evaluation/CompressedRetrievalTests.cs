using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;

namespace DistillSharp.Tests.Evaluation;

/// <summary>Retrieval over int8/binary/PCA-truncated embeddings, and index compatibility.</summary>
public sealed class CompressedRetrievalTests
{
    static float[][] Gaussian(int n, int dims, ulong seed)
    {
        var rng = new Random((int)seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, dims).Select(_ =>
            (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()))).ToArray()).ToArray();
    }

    static float[][] Noisy(float[][] v, float amount, ulong seed) =>
        v.Zip(Gaussian(v.Length, v[0].Length, seed), (a, b) => a.Zip(b, (x, y) => x + amount * y).ToArray()).ToArray();

    [Fact]
    public void Int8CodesAndSignsAreTheHandComputedOnes()
    {
        // Normalised calibration: (0.6, 0.8) and (−1, 0) → max |x_d| = (1, 0.8) → scales (1/127, 0.8/127).
        var scales = CompressedRetrieval.Int8Scales([[3, 4], [-2, 0]]);
        Assert.Equal(1 / 127f, scales[0], 7);
        Assert.Equal(0.8f / 127, scales[1], 7);
        // (0.6, 0.8) → (76.2, 127) → (76, 127); (0, −2) → (0, −1) → (0, −158.75) clamped to −127.
        Assert.Equal([[76, 127], [0, -127]], CompressedRetrieval.Int8Codes([[3, 4], [0, -2]], scales));
        Assert.Equal([[1, -1, -1]], CompressedRetrieval.Signs([[0.5f, 0, -2]]));
    }

    [Fact]
    public void RescoringWithTheFloatQueryFixesWhatHammingDistanceGetsWrong()
    {
        // Query 0 = (1, 1, 0.01, 0.01), signs (+ + + +). Its candidate (0.5, 0.5, −0.1, −0.1) has signs (+ + − −): Hamming 2,
        // the other candidate (−0.1, 0.5, 0.5, 0.5) has (− + + +): Hamming 1, so binary ranks the right one 2nd.
        // Rescored with the float query · ±1: 1 + 1 − 0.01 − 0.01 = 1.98 against −1 + 1 + 0.01 + 0.01 = 0.02: 1st.
        float[][] q = [[1, 1, 0.01f, 0.01f], [-0.1f, 0.5f, 0.5f, 0.5f]], c = [[0.5f, 0.5f, -0.1f, -0.1f], [-0.1f, 0.5f, 0.5f, 0.5f]];
        Assert.Equal(2, CompressedRetrieval.Binary(q, c).Ranks[0]);
        Assert.Equal(1, CompressedRetrieval.Binary(q, c, rescoreTop: 2).Ranks[0]);
        Assert.Equal(2, CompressedRetrieval.Binary(q, c, rescoreTop: 1).Ranks[0]);    // outside a shortlist of 1: keeps its rank
        Assert.Equal(1, CompressedRetrieval.Float(q, c).Ranks[0]);
        // Identical sign patterns tie, and ties count against the correct candidate.
        float[][] q2 = [[1, 0.1f], [0.1f, 1]], c2 = [[0.9f, 0.2f], [0.2f, 0.9f]];
        Assert.Equal([2, 2], CompressedRetrieval.Binary(q2, c2).Ranks);
        Assert.Equal([1, 1], CompressedRetrieval.Int8(q2, c2, CompressedRetrieval.Int8Scales(c2)).Ranks);
    }

    [Fact]
    public void CalibratedBitsSplitAtTheMedianAndRescoreWithEachSidesMean()
    {
        // Normalised calibration (1, 0), (0, 1), (0.6, 0.8): dimension 0 holds {0, 0.6, 1} → median 0.6, above {1} → 1,
        // at or below {0, 0.6} → 0.3; dimension 1 holds {0, 0.8, 1} → 0.8, 1, 0.4.
        var cal = CompressedRetrieval.CalibrateBinary([[2, 0], [0, 5], [3, 4]]);
        Assert.Equal([0.6f, 0.8f], cal.Thresholds);
        Assert.Equal([1f, 1f], cal.Above);
        Assert.Equal(0.3f, cal.Below[0], 6);
        Assert.Equal(0.4f, cal.Below[1], 6);
        // (0.8, 0.6) is above dimension 0's median and below dimension 1's; (0.6, 0.8) sits on both (not above).
        Assert.Equal([[1, -1], [-1, -1]], CompressedRetrieval.CalibratedSigns([[4, 3], [0.6f, 0.8f]], cal));
        // An even count takes the mean of the two middle values: (0, ±1) normalised gives dimension 1 {−1, −1, 1, 1} → 0,
        // sides −1 and 1; dimension 0 is constant (0) and has nothing above its threshold, so both sides are the threshold.
        var even = CompressedRetrieval.CalibrateBinary([[0, 1], [0, -1], [0, 2], [0, -3]]);
        Assert.Equal([0f, 0f], even.Thresholds);
        Assert.Equal([0f, -1f], even.Below);
        Assert.Equal([0f, 1f], even.Above);
    }

    [Fact]
    public void CalibratedBitsKeepTheNeighboursThatFixedZeroThresholdsLoseToAnOffset()
    {
        // Every dimension shares an offset of 1 (a mean direction, as anisotropic sentence embeddings have): most
        // coordinates are positive, so bits at 0 vary less than bits at the calibration medians, which split the data.
        float[][] Offset(float[][] v) => v.Select(x => x.Select(y => y + 1f).ToArray()).ToArray();
        var queries = Offset(Gaussian(300, 32, 6));
        var candidates = Offset(Noisy(Gaussian(300, 32, 6), 0.5f, 7));
        var cal = CompressedRetrieval.CalibrateBinary(Offset(Gaussian(400, 32, 8)));
        double plain = CompressedRetrieval.Binary(queries, candidates).RecallAt(10);
        double calibrated = CompressedRetrieval.Binary(queries, candidates, cal).RecallAt(10);
        double full = CompressedRetrieval.Float(queries, candidates).RecallAt(10);
        Assert.True(plain < 0.85, $"bits at 0: R@10 {plain}");
        Assert.True(calibrated > plain + 0.1, $"bits at the medians: R@10 {calibrated} against {plain}");
        // Rescored against the sides' means, the calibrated bits beat the ±1 rescoring of bits at 0, and never the float.
        double rescored = CompressedRetrieval.Binary(queries, candidates, cal, rescoreTop: 40).RecallAt(10);
        double plainRescored = CompressedRetrieval.Binary(queries, candidates, rescoreTop: 40).RecallAt(10);
        Assert.True(rescored > plainRescored + 0.02 && rescored <= full, $"rescored {rescored}, ±1 rescored {plainRescored}, float {full}");
        var metrics = EmbeddingCompressionTask.Evaluate(queries, candidates, Offset(Gaussian(400, 32, 8))).Metrics;
        Assert.Equal(calibrated, metrics["binary_cal_r10"]);
        Assert.Equal(4.0, metrics["binary_cal_rescore_bytes"]);
        Assert.Equal(CompressedRetrieval.Binary(queries, candidates, cal, rescoreTop: 100).RecallAt(10), metrics["binary_cal_rescore100_r10"]);
        Assert.Equal(CompressedRetrieval.Binary(queries, candidates, rescoreTop: 20).RecallAt(10), metrics["binary_rescore20_r10"]);
    }

    [Fact]
    public void CompressionKeepsNearDuplicatesAndTruncationLosesInformation()
    {
        var queries = Gaussian(200, 64, 1);
        var candidates = Noisy(queries, 0.6f, 2);
        var result = EmbeddingCompressionTask.Evaluate(queries, candidates, Gaussian(300, 64, 3)).Metrics;
        Assert.Equal(CompressedRetrieval.Float(queries, candidates).RecallAt(10), result["float32_r10"]);
        Assert.Equal(1.0, result["float32_r10_ratio"]);
        Assert.True(result["int8_r10"] >= 0.97 * result["float32_r10"], $"int8 {result["int8_r10"]}");
        Assert.True(result["binary_rescore_mrr"] >= result["binary_mrr"], "rescoring never loses here");
        Assert.True(result["pca64_r10"] >= 0.97 * result["float32_r10"], "all 64 directions = a rotation (+ centring)");
        Assert.False(result.ContainsKey("pca128_r10"), "widths above the model's are left out");
        // The uncentred rotation at full width preserves every cosine, so every rank (centring alone does not).
        Assert.Equal(result["float32_r10"], result["rot64_r10"]);
        Assert.Equal(result["float32_mrr"], result["rot64_mrr"], 6);
        Assert.Equal((256.0, 64.0, 8.0), (result["float32_bytes"], result["int8_bytes"], result["binary_bytes"]));
        // Isotropic data: 2 of 64 directions cannot keep the neighbours.
        var truncated = CompressedRetrieval.Float(queries.Select(v => v[..2]).ToArray(), candidates.Select(v => v[..2]).ToArray());
        Assert.True(truncated.RecallAt(10) < 0.8 * result["float32_r10"]);
    }

    [Fact]
    public void IndexCompatibilityIsPerfectForTheTeacherItselfAndFailsForARotatedStudent()
    {
        var tq = Gaussian(100, 16, 4);
        var tc = Noisy(tq, 0.5f, 5);
        var same = IndexCompatibilityTask.Evaluate(tq, tc, tq, tc).Metrics;
        Assert.Equal(1.0, same["overlap10_student"]);
        Assert.Equal(1.0, same["overlap10_mixed"]);
        Assert.Equal(same["teacher_r10"], same["mixed_r10"]);
        // A student that is the teacher in another basis (coordinates reversed and negated): its own retrieval and
        // neighbours are the teacher's, but its queries against the teacher's index are near chance.
        float[][] Rotate(float[][] v) => v.Select(x => x.Reverse().Select(y => -y).ToArray()).ToArray();
        var rotated = IndexCompatibilityTask.Evaluate(Rotate(tq), Rotate(tc), tq, tc).Metrics;
        Assert.Equal(rotated["teacher_r10"], rotated["student_r10"]);
        Assert.Equal(1.0, rotated["overlap10_student"]);
        Assert.True(rotated["overlap10_mixed"] < 0.5, $"{rotated["overlap10_mixed"]}");
        Assert.True(rotated["mixed_r10_vs_teacher"] < 0.5);
        var e = Assert.Throws<DistillSharpException>(() => IndexCompatibilityTask.Evaluate(Gaussian(5, 8, 1), Gaussian(5, 8, 2), tq, tc));
        Assert.Contains("teacher's width", e.Message);
    }
}

using DistillSharp.Evaluation;

namespace DistillSharp.Tests.Evaluation;

public class RetrievalMetricsTests
{
    [Fact]
    public void HandMadeThreeByThree()
    {
        // Row i = query i, correct candidate on the diagonal.
        // q0: 0.9 is the highest → rank 1. q1: 0.5 is beaten by 0.8 → rank 2. q2: 0.4 beaten by 0.7 and 0.6 → rank 3.
        // So R@1 = 1/3, R@2 = 2/3, R@10 = 1, MRR = (1 + 1/2 + 1/3) / 3 = 11/18.
        var scores = RetrievalMetrics.FromScores(new double[,] { { 0.9, 0.1, 0.3 }, { 0.8, 0.5, 0.2 }, { 0.7, 0.6, 0.4 } });
        Assert.Equal([1, 2, 3], scores.Ranks);
        Assert.Equal(1.0 / 3, scores.RecallAt(1), 12);
        Assert.Equal(2.0 / 3, scores.RecallAt(2), 12);
        Assert.Equal(1.0, scores.RecallAt(10), 12);
        Assert.Equal(11.0 / 18, scores.MeanReciprocalRank, 12);
    }

    [Fact]
    public void TiesCountAgainstTheModel()
    {
        // A constant score ranks every correct candidate last: rank 3 each, MRR 1/3, R@1 0.
        var scores = RetrievalMetrics.FromScores(new double[,] { { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 } });
        Assert.Equal([3, 3, 3], scores.Ranks);
        Assert.Equal(0, scores.RecallAt(1));
        Assert.Equal(1.0 / 3, scores.MeanReciprocalRank, 12);
    }

    [Fact]
    public void EmbeddingsAreComparedByCosine()
    {
        // q0=(1,0) vs c0=(5,0): cos 1, vs c1=(1,1): cos 0.707 → rank 1 despite the different lengths.
        // q1=(0,1) vs c0: cos 0, vs c1: 0.707 → rank 1.
        var scores = RetrievalMetrics.FromEmbeddings([[1, 0], [0, 1]], [[5, 0], [1, 1]]);
        Assert.Equal([1, 1], scores.Ranks);
        // Swapped candidates: q0 prefers (5,0) which is now candidate 1 → rank 2; q1: cos with (1,1)=0.707 > 0 → rank 2.
        Assert.Equal([2, 2], RetrievalMetrics.FromEmbeddings([[1, 0], [0, 1]], [[1, 1], [5, 0]]).Ranks);
    }
}

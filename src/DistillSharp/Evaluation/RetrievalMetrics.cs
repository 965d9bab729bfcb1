using System.Numerics;
using System.Runtime.InteropServices;
using DistillSharp.Evaluation.Encoder;

namespace DistillSharp.Evaluation;

/// <summary>Retrieval quality over a query × candidate score matrix whose correct pairs are on the diagonal.</summary>
/// <param name="Ranks">1-based rank of the correct candidate for each query.</param>
public sealed record RetrievalScores(IReadOnlyList<int> Ranks)
{
    /// <summary>Share of queries whose correct candidate ranks within the top <paramref name="k"/>.</summary>
    public double RecallAt(int k) => Ranks.Count == 0 ? 0 : Ranks.Count(r => r <= k) / (double)Ranks.Count;

    /// <summary>Mean reciprocal rank.</summary>
    public double MeanReciprocalRank => Ranks.Count == 0 ? 0 : Ranks.Average(r => 1.0 / r);
}

/// <summary>
/// Ranks candidates by score for each query. Ties count against the model: the rank is 1 + the
/// number of other candidates scoring at least as high as the correct one, so a constant
/// embedding gets rank n, not 1.
/// </summary>
public static class RetrievalMetrics
{
    /// <summary>Scores from a square matrix; row i is query i, its correct candidate is column i.</summary>
    public static RetrievalScores FromScores(double[,] scores)
    {
        int n = scores.GetLength(0);
        if (scores.GetLength(1) != n) throw new ArgumentException($"score matrix must be square, got {n}x{scores.GetLength(1)}");
        var ranks = new int[n];
        var row = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) row[j] = scores[i, j];
            ranks[i] = RankOfCorrect(row, i);
        }
        return new RetrievalScores(ranks);
    }

    /// <summary>Scores by cosine similarity; query i's correct candidate is candidate i.</summary>
    public static RetrievalScores FromEmbeddings(float[][] queries, float[][] candidates)
    {
        if (queries.Length != candidates.Length)
            throw new ArgumentException($"{queries.Length} queries but {candidates.Length} candidates; they pair up by index");
        var q = Embeddings.Normalize(queries);
        var c = Embeddings.Normalize(candidates);
        int n = q.Length;
        var ranks = new int[n];
        var row = new double[n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) row[j] = DotFloat(q[i], c[j]);
            ranks[i] = RankOfCorrect(row, i);
        }
        return new RetrievalScores(ranks);
    }

    /// <summary>1 + the number of other entries of <paramref name="row"/> that are ≥ the correct one.</summary>
    public static int RankOfCorrect(ReadOnlySpan<double> row, int correct)
    {
        double target = row[correct];
        int rank = 1;
        for (int j = 0; j < row.Length; j++)
            if (j != correct && row[j] >= target) rank++;
        return rank;
    }

    /// <summary>SIMD float dot product (ranking 2,000 × 2,000 pairs needs the speed; float precision suffices).</summary>
    static double DotFloat(float[] a, float[] b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"embedding lengths differ: {a.Length} vs {b.Length}");
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        var acc = Vector<float>.Zero;
        for (int i = 0; i < va.Length; i++) acc += va[i] * vb[i];
        float sum = Vector.Sum(acc);
        for (int i = va.Length * Vector<float>.Count; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}

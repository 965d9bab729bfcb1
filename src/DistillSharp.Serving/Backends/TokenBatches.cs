using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Serving.Backends;

/// <summary>Token-id sequences as a right-padded <see cref="TokenBatch"/>.</summary>
public static class TokenBatches
{
    /// <summary>(B, longest) ids, mask 1 on real tokens, token types 0; padding id 0.</summary>
    public static TokenBatch Padded(IReadOnlyList<int[]> sequences)
    {
        int b = sequences.Count, t = sequences.Max(s => s.Length);
        var ids = new long[b, t];
        var mask = new long[b, t];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < sequences[i].Length; j++)
            {
                ids[i, j] = sequences[i][j];
                mask[i, j] = 1;
            }
        return new TokenBatch(ids, mask, new long[b, t]);
    }
}

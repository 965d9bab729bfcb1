using DistillSharp.Data.Decoder;
using DistillSharp.Data.Decoder.Traces;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// The sparse teacher of an endpoint's answers: per response token, the top-k alternatives and
/// log-probabilities the endpoint returned (<c>top_logprobs</c>, log-softmax of its raw logits, so
/// temperature 1) and the tail log-mass log(1 − Σ_k p_i) — the k + 1 buckets of
/// <see cref="SparseTeacher"/> (Hinton 2015 KD on a truncated support; docs/LM-DISTILLATION.md).
/// Stored in a <see cref="SparseTeacherCache"/> under the example ids the SFT batcher gives (traces)
/// or the block ids the packed batcher gives (corpus blocks the endpoint scored with echo), so
/// <see cref="LmTrainer"/> trains on it like on any cached teacher.
/// </summary>
public static class TopLogprobTeacher
{
    /// <summary>The endpoint's log-probabilities are of its untempered distribution.</summary>
    public const double Temperature = 1.0;

    /// <summary>
    /// Stores the record of every example (index i of <paramref name="examples"/> = the SFT example id),
    /// reading their scored positions from <paramref name="maxLength"/>-token SFT batches; each example
    /// must carry top-k lists of the cache's k.
    /// </summary>
    public static void Fill(SparseTeacherCache cache, IReadOnlyList<TraceExample> examples, int maxLength, int k)
    {
        var sft = new SftBatcher(examples.Select(e => e.Example).ToList(), 1, maxLength, seed: 0);
        foreach (var batch in sft.InOrder())
        {
            long example = batch.ExampleIds[0];
            if (cache.Contains(example)) continue;
            var e = examples[(int)example];
            if (e.TopIds is null || e.TopLogprobs is null) throw new DistillSharpException($"trace example {example} has no top log-probabilities");
            var scored = new int[batch.Length];                       // position → response token index, −1 where not scored
            for (int i = 0, j = 0; i < batch.Length; i++) scored[i] = batch.LossMask[i] == 0 ? -1 : j++;
            Store(cache, batch, k, (_, i) => scored[i] < 0 ? null : (e.TopIds[scored[i]], e.TopLogprobs[scored[i]]), $"trace example {example}");
        }
    }

    /// <summary>
    /// Stores the record of every block in the first <paramref name="batches"/> batches <paramref name="source"/>
    /// serves from its position: position i of a block gets <paramref name="tops"/>(block)[i], the endpoint's
    /// top-k for token i + 1 (corpus blocks scored with echo; every position is scored).
    /// </summary>
    public static void FillBlocks(SparseTeacherCache cache, ILmBatchSource source, long batches, Func<long, (int[] Ids, float[] Logprobs)[]> tops, int k)
    {
        for (long n = 0; n < batches; n++)
        {
            var batch = source.Next();
            if (batch.ExampleIds.All(cache.Contains)) continue;
            var rows = batch.ExampleIds.Select(tops).ToArray();
            Store(cache, batch, k, (r, i) => rows[r][i], "scored block");
        }
    }

    // The k + 1 buckets of each scored position: the k ids and log-probabilities, and the tail log(1 − Σ p).
    static void Store(SparseTeacherCache cache, LmBatch batch, int k, Func<int, int, (int[] Ids, float[] Logprobs)?> at, string what)
    {
        int b = batch.BatchSize, t = batch.Length;
        var ids = new long[b * t * k];
        var logProbs = new float[b * t * k];
        var tails = new float[b * t];
        for (int r = 0; r < b; r++)
            for (int i = 0; i < t; i++)
            {
                if (at(r, i) is not { } top) continue;
                var (topIds, topLogprobs) = top;
                if (topIds.Length < k) throw new DistillSharpException($"{what} position {i} has {topIds.Length} alternatives, fewer than k = {k}");
                double mass = 0;
                for (int a = 0; a < k; a++)
                {
                    ids[(r * t + i) * k + a] = topIds[a];
                    logProbs[(r * t + i) * k + a] = topLogprobs[a];
                    mass += Math.Exp(topLogprobs[a]);
                }
                tails[r * t + i] = (float)Math.Log(Math.Max(1 - mass, KdTeacher.MinProbability));
            }
        using var scope = NewDisposeScope();
        cache.Store(batch, new SparseTeacher(tensor(ids, b, t, k), tensor(logProbs, b, t, k), tensor(tails, b, t), Temperature));
    }
}

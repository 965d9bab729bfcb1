using DistillSharp.Data.Decoder;
using DistillSharp.Data.Decoder.Traces;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// The sparse teacher of an endpoint's answers: per response token, the top-k alternatives and
/// log-probabilities the endpoint returned (<c>top_logprobs</c>, log-softmax of its raw logits, so
/// temperature 1) and the tail log-mass log(1 − Σ_k p_i) — the k + 1 buckets of
/// <see cref="SparseTeacher"/> (Hinton 2015 KD on a truncated support; docs/LM-DISTILLATION.md).
/// Stored in a <see cref="SparseTeacherCache"/> under the same example ids the SFT batcher gives,
/// so <see cref="LmTrainer"/> trains on it like on any cached teacher.
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
            int t = batch.Length;
            var ids = new long[t * k];
            var logProbs = new float[t * k];
            var tails = new float[t];
            int j = 0;                                                 // response token index of the next scored position
            for (int i = 0; i < t; i++)
            {
                if (batch.LossMask[i] == 0) continue;
                if (e.TopIds[j].Length < k) throw new DistillSharpException($"trace example {example} token {j} has {e.TopIds[j].Length} alternatives, fewer than k = {k}");
                double mass = 0;
                for (int a = 0; a < k; a++)
                {
                    ids[i * k + a] = e.TopIds[j][a];
                    logProbs[i * k + a] = e.TopLogprobs[j][a];
                    mass += Math.Exp(e.TopLogprobs[j][a]);
                }
                tails[i] = (float)Math.Log(Math.Max(1 - mass, KdTeacher.MinProbability));
                j++;
            }
            using var scope = NewDisposeScope();
            cache.Store(batch, new SparseTeacher(tensor(ids, 1, t, k), tensor(logProbs, 1, t, k), tensor(tails, 1, t), Temperature));
        }
    }
}

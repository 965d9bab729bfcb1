using DistillSharp.Distillation.Encoder.Losses;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// A sparse teacher: per position the top-k token ids, their log-probabilities and the log of the
/// tail mass 1 − Σ_k p_i, all at temperature <see cref="Temperature"/>. A loss compares it with the
/// student on k + 1 buckets — the k ids and "everything else" — where the student's tail bucket is
/// logsumexp of its logits off the k ids minus logsumexp of all (exact, no 1 − Σ cancellation).
/// By the data-processing inequality every divergence on the buckets is ≤ the dense one; for
/// forward KL the gap is exactly m_P · KL(P(·|tail) ‖ Q(·|tail)) (chain rule; docs/LM-DISTILLATION.md).
/// </summary>
public sealed class SparseTeacher : KdTeacher
{
    /// <summary>Wraps (B, T, k) ids (int64), (B, T, k) log-probs, (B, T) tail log-mass.</summary>
    public SparseTeacher(Tensor ids, Tensor logProbs, Tensor tailLogMass, double temperature)
    {
        if (ids.dim() != 3 || !logProbs.shape.SequenceEqual(ids.shape) || tailLogMass.dim() != 2
            || tailLogMass.shape[0] != ids.shape[0] || tailLogMass.shape[1] != ids.shape[1])
            throw new DistillSharpException($"sparse teacher: ids ({string.Join(", ", ids.shape)}) and log-probs ({string.Join(", ", logProbs.shape)}) must be (B, T, k) and the tail (B, T), got ({string.Join(", ", tailLogMass.shape)})");
        if (!(temperature > 0)) throw new DistillSharpException($"sparse teacher temperature {temperature} must be > 0");
        Ids = ids.to_type(ScalarType.Int64);
        LogProbs = logProbs.to_type(ScalarType.Float32);
        TailLogMass = tailLogMass.to_type(ScalarType.Float32);
        Temperature = temperature;
    }

    /// <summary>Top-k ids (B, T, k), int64.</summary>
    public Tensor Ids { get; }
    /// <summary>Their log-probabilities (B, T, k), float32.</summary>
    public Tensor LogProbs { get; }
    /// <summary>log(1 − Σ_k p) (B, T), float32.</summary>
    public Tensor TailLogMass { get; }
    /// <summary>The temperature the probabilities were taken at.</summary>
    public double Temperature { get; }
    /// <summary>k.</summary>
    public int K => (int)Ids.shape[2];

    /// <summary>The sparse form of dense teacher logits (B, T, V) at temperature T: top-k of softmax(z / T) and the exact tail.</summary>
    public static SparseTeacher FromLogits(Tensor logits, int k, double temperature)
    {
        if (k < 1 || k > logits.shape[^1]) throw new DistillSharpException($"top-k {k} must be in 1..{logits.shape[^1]} (the vocabulary)");
        using var noGrad = no_grad();
        var logP = (logits.to_type(ScalarType.Float32) / temperature).log_softmax(-1);   // (B, T, V)
        var (top, ids) = logP.topk(k, -1);                                                // (B, T, k)
        var rest = logP.masked_fill(OnIds(logP, ids), Masks.MaskedScore);
        var tail = rest.logsumexp(-1);                                                    // (B, T)
        return new SparseTeacher(ids, top, tail, temperature);
    }

    /// <inheritdoc/>
    public override (Tensor LogP, Tensor LogQ) Align(Tensor studentLogits, double temperature)
    {
        CheckLeading(studentLogits, Ids.shape[0], Ids.shape[1], "sparse teacher");
        if (Math.Abs(temperature - Temperature) > 1e-12)
            throw new DistillSharpException($"the sparse teacher was taken at temperature {Temperature} but the loss uses {temperature}; rebuild the cache at the loss temperature");
        double minLog = Math.Log(MinProbability);
        // Renormalised over the k + 1 buckets: stored fp16 log-probs need not sum to exactly 1 with the tail.
        var logP = cat([LogProbs, TailLogMass.clamp_min(minLog).unsqueeze(-1)], -1).log_softmax(-1); // (B, T, k+1)
        var z = studentLogits / temperature;                                              // (B, T, V)
        var all = z.logsumexp(-1, keepdim: true);                                         // (B, T, 1)
        var onIds = z.gather(-1, Ids) - all;                                              // (B, T, k)
        var tail = (z.masked_fill(OnIds(z, Ids), Masks.MaskedScore).logsumexp(-1, keepdim: true) - all).clamp_min(minLog);
        return (logP, cat([onIds, tail], -1));                                            // (B, T, k+1) each
    }

    static Tensor OnIds(Tensor like, Tensor ids) =>
        zeros(like.shape, dtype: ScalarType.Bool, device: like.device).scatter(-1, ids, ones(ids.shape, dtype: ScalarType.Bool, device: like.device));
}

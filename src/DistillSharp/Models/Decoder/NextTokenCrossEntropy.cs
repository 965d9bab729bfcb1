// Next-token cross-entropy, the language-modelling objective:
//   CE = mean over scored positions (b, t) of −log softmax(z_{b,t})[y_{b,t}].
using static TorchSharp.torch;

namespace DistillSharp.Models.Decoder;

/// <summary>Masked next-token cross-entropy (mean negative log-likelihood per scored token).</summary>
public static class NextTokenCrossEntropy
{
    /// <summary>Per-position NLL (B, T) of <paramref name="targets"/> (B, T) int64 under <paramref name="logits"/> (B, T, V).</summary>
    public static Tensor PerToken(Tensor logits, Tensor targets)
    {
        if (logits.dim() != 3 || targets.dim() != 2 || logits.shape[0] != targets.shape[0] || logits.shape[1] != targets.shape[1])
            throw new DistillSharpException($"logits ({string.Join(", ", logits.shape)}) must be (B, T, V) and targets ({string.Join(", ", targets.shape)}) (B, T)");
        var logProbs = logits.log_softmax(-1);                                      // (B, T, V)
        return -logProbs.gather(-1, targets.unsqueeze(-1)).squeeze(-1);             // (B, T)
    }

    /// <summary>Mean NLL over positions where <paramref name="lossMask"/> is set: a scalar.</summary>
    public static Tensor Compute(Tensor logits, Tensor targets, Tensor lossMask) =>
        MaskedMean(PerToken(logits, targets), lossMask);

    /// <summary>Mean of (B, T) values where <paramref name="mask"/> is set; 0 when nothing is.</summary>
    public static Tensor MaskedMean(Tensor values, Tensor mask)
    {
        if (values.dim() != 2 || !values.shape.SequenceEqual(mask.shape))
            throw new DistillSharpException($"per-token values ({string.Join(", ", values.shape)}) and loss mask ({string.Join(", ", mask.shape)}) must both be (B, T)");
        var keep = mask.dtype == ScalarType.Bool ? mask : mask.gt(0);
        var sum = where(keep, values, zeros_like(values)).sum();
        return sum / keep.sum().clamp_min(1).to_type(values.dtype);
    }
}

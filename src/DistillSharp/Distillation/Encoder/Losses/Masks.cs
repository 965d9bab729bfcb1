using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// Padding-mask arithmetic shared by the terms. Padded positions never reach a loss: they are
/// selected away with <c>where</c> (not multiplied by 0), so a NaN or ±inf there cannot leak in.
/// </summary>
public static class Masks
{
    /// <summary>Stand-in for −∞ in masked scores: exp underflows to exactly 0 in float32 and float64.</summary>
    public const double MaskedScore = -1e9;

    /// <summary>Smallest probability used inside a log, so log(0) never appears.</summary>
    public const double MinProbability = 1e-30;

    /// <summary>The batch's token mask as booleans: (B, T).</summary>
    public static Tensor Tokens(LossBatch batch) => batch.AttentionMask.gt(0);

    /// <summary>
    /// Mean of <paramref name="values"/> (B, T) over real tokens (B, T); 0 when no token is real.
    /// </summary>
    public static Tensor MeanOverTokens(Tensor values, Tensor tokens)
    {
        CheckSameLeading(values, tokens, "per-token values");
        var zero = zeros_like(values);
        var sum = where(tokens, values, zero).sum();                // ()
        return sum / tokens.sum().clamp_min(1).to_type(values.dtype);
    }

    /// <summary>
    /// Attention probabilities over real keys only: padded keys set to 0 and each row renormalised,
    /// so whatever a model wrote at padded keys cannot change a loss. (B, heads, T, T).
    /// </summary>
    public static Tensor RealKeyProbabilities(Tensor attention, Tensor tokens)
    {
        var keys = tokens.unsqueeze(1).unsqueeze(1);                 // (B, 1, 1, T)
        var kept = where(keys, attention, zeros_like(attention));    // (B, h, T, T)
        return kept / kept.sum(-1, keepdim: true).clamp_min(MinProbability);
    }

    /// <summary>Log of probabilities at real keys, 0 at padded keys (never −∞). (B, heads, T, T).</summary>
    public static Tensor SafeLog(Tensor probabilities, Tensor tokens)
    {
        var keys = tokens.unsqueeze(1).unsqueeze(1);                 // (B, 1, 1, T)
        return where(keys, probabilities.clamp_min(MinProbability).log(), zeros_like(probabilities));
    }

    /// <summary>
    /// KL(P‖Q) = Σ_k P_k (log P_k − log Q_k) per row over real keys, averaged over heads and real
    /// query rows. Inputs are log-probabilities (B, heads, T, T) that are 0 at padded keys.
    /// </summary>
    public static Tensor RowKlOverRealTokens(Tensor logP, Tensor logQ, Tensor tokens)
    {
        var keys = tokens.unsqueeze(1).unsqueeze(1);                 // (B, 1, 1, T)
        var p = where(keys, logP.exp(), zeros_like(logP));
        var rows = (p * (logP - logQ)).sum(-1);                      // (B, h, T)
        var perToken = rows.mean([1]);                               // (B, T): mean over heads
        return MeanOverTokens(perToken, tokens);
    }

    /// <summary>Fails when two tensors that must agree in shape do not.</summary>
    public static void CheckSameShape(Tensor student, Tensor teacher, string owner, string what)
    {
        if (!student.shape.SequenceEqual(teacher.shape))
            throw new DistillSharpException(
                $"loss '{owner}': student {what} has shape ({string.Join(", ", student.shape)}) but the teacher's is ({string.Join(", ", teacher.shape)})");
    }

    static void CheckSameLeading(Tensor values, Tensor tokens, string what)
    {
        if (values.dim() != 2 || values.shape[0] != tokens.shape[0] || values.shape[1] != tokens.shape[1])
            throw new DistillSharpException(
                $"{what} have shape ({string.Join(", ", values.shape)}) but the attention mask is ({string.Join(", ", tokens.shape)})");
    }
}

using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>
/// A token-level distillation loss for language models: a divergence D(P, Q) between the
/// teacher's (P) and student's (Q) next-token distributions at temperature T, computed per
/// position, scaled by T² (Hinton 2015: keeps gradient magnitudes comparable across T) and averaged
/// over the positions where the loss mask is true (response tokens in SFT, all tokens when
/// pre-training). Masked positions are selected away with <c>where</c>, so they contribute neither
/// value nor gradient, whatever the logits hold there.
/// </summary>
public abstract class TokenKdLoss
{
    /// <summary>Creates the loss at temperature <paramref name="temperature"/> (&gt; 0).</summary>
    protected TokenKdLoss(string name, double temperature)
    {
        if (!(temperature > 0)) throw new DistillSharpException($"{name}: temperature {temperature} must be > 0");
        Name = name;
        Temperature = temperature;
    }

    /// <summary>Registry name.</summary>
    public string Name { get; }

    /// <summary>Softmax temperature T.</summary>
    public double Temperature { get; }

    /// <summary>
    /// T² · mean over masked positions of D(P, Q): a scalar. <paramref name="studentLogits"/> (B, T, V),
    /// <paramref name="lossMask"/> (B, T) bool or 0/1.
    /// </summary>
    public Tensor Compute(Tensor studentLogits, KdTeacher teacher, Tensor lossMask)
    {
        var (logP, logQ) = teacher.Align(studentLogits, Temperature);  // (B, T, S) each
        var perToken = PerToken(logP, logQ);                            // (B, T)
        return MaskedMean(perToken, lossMask) * (Temperature * Temperature);
    }

    /// <summary>The divergence per position over the last axis: (B, T, S) log-probs → (B, T).</summary>
    public abstract Tensor PerToken(Tensor logP, Tensor logQ);

    /// <summary>KL(A ‖ B) = Σ a (log a − log b) over the last axis.</summary>
    public static Tensor Kl(Tensor logA, Tensor logB) => (logA.exp() * (logA - logB)).sum(-1);

    /// <summary>log(w·A + (1 − w)·B) for 0 &lt; w &lt; 1, as a logsumexp (never log 0).</summary>
    public static Tensor LogMix(Tensor logA, Tensor logB, double w) =>
        stack([logA + Math.Log(w), logB + Math.Log(1 - w)]).logsumexp(0);

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

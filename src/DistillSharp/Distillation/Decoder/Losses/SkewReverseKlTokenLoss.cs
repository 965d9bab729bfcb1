// α-skew reverse KL (DistiLLM, Ko et al. 2024, Eq. 4):
//   SRKL(α)(P, Q) = KL(Q ‖ (1 − α)·P + α·Q), P = teacher, Q = student. α = 0 is reverse KL.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>KL(Q ‖ (1 − α)P + αQ); α ∈ [0, 1).</summary>
public sealed class SkewReverseKlTokenLoss : SkewedTokenLoss
{
    /// <summary>Creates the loss with skew <paramref name="alpha"/> in [0, 1) at <paramref name="temperature"/>.</summary>
    public SkewReverseKlTokenLoss(double alpha = 0.1, double temperature = 1.0) : base("skew_reverse_kl", alpha, temperature)
    {
    }

    /// <inheritdoc/>
    public override Tensor PerToken(Tensor logP, Tensor logQ) => Skewed(logQ, logP);
}

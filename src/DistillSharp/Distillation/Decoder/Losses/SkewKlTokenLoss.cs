// α-skew KL (DistiLLM, Ko et al. 2024, "DistiLLM: Towards Streamlined Distillation for Large
// Language Models", Eq. 3):  SKL(α)(P, Q) = KL(P ‖ α·P + (1 − α)·Q), P = teacher, Q = student.
// Mixing a little of P into the student side bounds the log-ratio by log(1/α), which keeps the
// gradient finite where Q ≈ 0. α = 0 is forward KL.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>KL(P ‖ αP + (1 − α)Q); α ∈ [0, 1).</summary>
public sealed class SkewKlTokenLoss : SkewedTokenLoss
{
    /// <summary>Creates the loss with skew <paramref name="alpha"/> in [0, 1) at <paramref name="temperature"/>.</summary>
    public SkewKlTokenLoss(double alpha = 0.1, double temperature = 1.0) : base("skew_kl", alpha, temperature)
    {
    }

    /// <inheritdoc/>
    public override Tensor PerToken(Tensor logP, Tensor logQ) => Skewed(logP, logQ);
}

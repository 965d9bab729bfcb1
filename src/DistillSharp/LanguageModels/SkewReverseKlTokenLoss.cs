// α-skew reverse KL (DistiLLM, Ko et al. 2024, Eq. 4):
//   SRKL(α)(P, Q) = KL(Q ‖ (1 − α)·P + α·Q), P = teacher, Q = student. α = 0 is reverse KL.
using static TorchSharp.torch;

namespace DistillSharp.LanguageModels;

/// <summary>KL(Q ‖ (1 − α)P + αQ); α ∈ [0, 1).</summary>
public sealed class SkewReverseKlTokenLoss : TokenKdLoss
{
    /// <summary>Creates the loss with skew <paramref name="alpha"/>.</summary>
    public SkewReverseKlTokenLoss(double alpha = 0.1, double temperature = 1.0) : base("skew_reverse_kl", temperature)
    {
        if (!(alpha >= 0 && alpha < 1)) throw new DistillSharpException($"skew_reverse_kl: alpha {alpha} must be in [0, 1)");
        Alpha = alpha;
    }

    /// <summary>α.</summary>
    public double Alpha { get; }

    /// <inheritdoc/>
    public override Tensor PerToken(Tensor logP, Tensor logQ) =>
        Kl(logQ, Alpha == 0 ? logP : LogMix(logQ, logP, Alpha));
}

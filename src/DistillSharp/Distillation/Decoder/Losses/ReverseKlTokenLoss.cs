// Reverse KL, student ‖ teacher (MiniLLM, Gu et al. 2024):  D = Σ_v Q_v (log Q_v − log P_v).
// Mode-seeking: the student concentrates on the teacher's main modes instead of covering the tail.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>KL(Q ‖ P), P = teacher, Q = student.</summary>
public sealed class ReverseKlTokenLoss(double temperature = 1.0) : TokenKdLoss("reverse_kl", temperature)
{
    /// <inheritdoc/>
    public override Tensor PerToken(Tensor logP, Tensor logQ) => Kl(logQ, logP);
}

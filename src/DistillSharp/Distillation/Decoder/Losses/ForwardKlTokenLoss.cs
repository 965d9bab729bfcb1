// Forward KL, teacher ‖ student (Hinton et al. 2015, "Distilling the Knowledge in a Neural
// Network"; word-level KD in Kim & Rush 2016):  D = Σ_v P_v (log P_v − log Q_v).
// Mean-seeking: the student spreads mass over every token the teacher finds plausible.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>KL(P ‖ Q), P = teacher, Q = student.</summary>
public sealed class ForwardKlTokenLoss(double temperature = 1.0) : TokenKdLoss("forward_kl", temperature)
{
    /// <inheritdoc/>
    public override Tensor PerToken(Tensor logP, Tensor logQ) => Kl(logP, logQ);
}

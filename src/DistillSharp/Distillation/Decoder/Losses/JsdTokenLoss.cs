// Generalised Jensen–Shannon divergence (GKD, Agarwal et al. 2024, "On-Policy Distillation of
// Language Models: Learning from Self-Generated Mistakes"):
//   JSD(β)(P ‖ Q) = β · KL(P ‖ M) + (1 − β) · KL(Q ‖ M),   M = β·P + (1 − β)·Q,
// P = teacher, Q = student. β = 0.5 is the symmetric JSD. As β → 0, JSD(β)/β → KL(P ‖ Q) and as
// β → 1, JSD(β)/(1 − β) → KL(Q ‖ P) (GKD §3: it interpolates between forward and reverse KL), so
// β = 0 is defined as forward KL and β = 1 as reverse KL — the limits, not the vanishing value.
// log M is a logsumexp, which never takes log 0.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder.Losses;

/// <summary>Generalised JSD(β) between teacher P and student Q; β ∈ [0, 1].</summary>
public sealed class JsdTokenLoss : TokenKdLoss
{
    /// <summary>Creates the loss; <paramref name="beta"/> is the teacher's weight in M.</summary>
    public JsdTokenLoss(double beta = 0.5, double temperature = 1.0) : base("jsd", temperature)
    {
        if (!(beta >= 0 && beta <= 1)) throw new DistillSharpException($"jsd: beta {beta} must be in [0, 1]");
        Beta = beta;
    }

    /// <summary>β.</summary>
    public double Beta { get; }

    /// <inheritdoc/>
    public override Tensor PerToken(Tensor logP, Tensor logQ)
    {
        if (Beta == 0) return Kl(logP, logQ);
        if (Beta == 1) return Kl(logQ, logP);
        var logM = LogMix(logP, logQ, Beta);
        return Beta * Kl(logP, logM) + (1 - Beta) * Kl(logQ, logM);
    }
}

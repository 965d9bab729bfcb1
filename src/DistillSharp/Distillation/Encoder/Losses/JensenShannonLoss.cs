// Generalised Jensen–Shannon divergence, Agarwal et al. 2024, "On-Policy Distillation of
// Language Models: Learning from Self-Generated Mistakes" (GKD), Eq. for D_JSD(β):
//   D_JSD(β)(P ‖ Q) = β · KL(P ‖ M) + (1 − β) · KL(Q ‖ M),   M = β·P + (1 − β)·Q
// Here P = teacher p_t and Q = student p_s, both softmax(z / T) (GKD's P is the teacher, Q_θ
// the student). β = 0.5 gives the ordinary JSD; small β behaves like forward KL(P‖Q) and β near 1
// like reverse KL, up to scale (GKD §3). β is restricted to (0, 1): at 0 or 1 the divergence is
// identically 0 (M equals Q resp. P) — use "kl" or "reverse_kl" instead.
// log M is computed as logsumexp(log β + log P, log(1−β) + log Q), which never takes log(0).
// Scaled by T² like the KL terms. (B, C): mean over batch; (B, T, V): mean over real tokens.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Generalised JSD(β) between teacher (P) and student (Q) distributions.</summary>
public sealed class JensenShannonLoss : LossTerm
{
    /// <summary>Creates the term.</summary>
    public JensenShannonLoss(double beta, double temperature) : base("jsd")
    {
        if (!(beta > 0 && beta < 1)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be in (0, 1)");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        Beta = beta;
        Temperature = temperature;
    }

    /// <summary>Mixture weight β of the teacher in M.</summary>
    public double Beta { get; }

    /// <summary>Softmax temperature T.</summary>
    public double Temperature { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Logits = true };

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var (s, t) = LogitLosses.Pair(student, teacher, Name);
        var logP = LogitLosses.LogSoftmax(t, Temperature);                       // teacher
        var logQ = LogitLosses.LogSoftmax(s, Temperature);                       // student
        var logM = stack([logP + Math.Log(Beta), logQ + Math.Log(1 - Beta)]).logsumexp(0);
        var perPosition = Beta * LogitLosses.Kl(logP, logM) + (1 - Beta) * LogitLosses.Kl(logQ, logM);
        var loss = LogitLosses.Reduce(perPosition, batch) * (Temperature * Temperature);
        return Result(loss);
    }
}

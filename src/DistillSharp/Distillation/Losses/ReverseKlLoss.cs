// Reverse (mode-seeking) KL, as used for LLM distillation by Gu et al. 2024 ("MiniLLM") and as
// the β→1 end of GKD (Agarwal et al. 2024):
//   L_rkl = T² · KL(p_s ‖ p_t) = T² · Σ_v p_s,v (log p_s,v − log p_t,v)
// with p = softmax(z / T); the T² matches the forward-KL term so the two mix at equal scale.
// (B, C) logits: mean over the batch. (B, T, V) logits: mean over real tokens.
using DistillSharp.Models;

namespace DistillSharp.Distillation.Losses;

/// <summary>Reverse KL(student ‖ teacher) on tempered logits, scaled by T².</summary>
public sealed class ReverseKlLoss : LossTerm
{
    /// <summary>Creates the term.</summary>
    public ReverseKlLoss(double temperature) : base("reverse_kl")
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        Temperature = temperature;
    }

    /// <summary>Softmax temperature T.</summary>
    public double Temperature { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Logits = true };

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var (s, t) = LogitLosses.Pair(student, teacher, Name);
        var logPt = LogitLosses.LogSoftmax(t, Temperature);
        var logPs = LogitLosses.LogSoftmax(s, Temperature);
        var loss = LogitLosses.Reduce(LogitLosses.Kl(logPs, logPt), batch) * (Temperature * Temperature);
        return Result(loss);
    }
}

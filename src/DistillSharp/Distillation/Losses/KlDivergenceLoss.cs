// Logit distillation, Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network":
//   p_t = softmax(z_t / T),  p_s = softmax(z_s / T)
//   L_kl = T² · KL(p_t ‖ p_s) = T² · Σ_v p_t,v (log p_t,v − log p_s,v)
// The T² keeps the gradient scale independent of T (soft-target gradients scale as 1/T²).
// (B, C) logits: mean over the batch. (B, T, V) logits: mean over real tokens (attention mask 1).
using DistillSharp.Models;

namespace DistillSharp.Distillation.Losses;

/// <summary>Forward KL(teacher ‖ student) on tempered logits, scaled by T².</summary>
public sealed class KlDivergenceLoss : LossTerm
{
    /// <summary>Creates the term.</summary>
    public KlDivergenceLoss(double temperature, string name = "kl") : base(name)
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
        var loss = LogitLosses.Reduce(LogitLosses.Kl(logPt, logPs), batch) * (Temperature * Temperature);
        return Result(loss);
    }
}

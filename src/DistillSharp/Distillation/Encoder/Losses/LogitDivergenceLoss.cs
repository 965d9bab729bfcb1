// Logit distillation (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network"):
//   p_t = softmax(z_t / T),  p_s = softmax(z_s / T),  L = T² · D(p_t, p_s)
// with D any divergence of Divergences/ (forward KL, reverse KL, JSD(β), skew KLs). The T² keeps the
// gradient scale independent of T (soft-target gradients scale as 1/T²).
// (B, C) logits: mean over the batch. (B, T, V) logits: mean over real tokens (attention mask 1).
using DistillSharp.Distillation.Divergences;
using DistillSharp.Models;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>T²·D(teacher, student) on tempered logits, for any <see cref="Divergence"/>.</summary>
public sealed class LogitDivergenceLoss : LossTerm
{
    /// <summary>Creates the term called <paramref name="name"/> (its registry name).</summary>
    public LogitDivergenceLoss(Divergence divergence, double temperature, string? name = null) : base(name ?? divergence.Name)
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        Divergence = divergence;
        Temperature = temperature;
    }

    /// <summary>The divergence D(P, Q), P the teacher.</summary>
    public Divergence Divergence { get; }

    /// <summary>Softmax temperature T.</summary>
    public double Temperature { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Logits = true };

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var (s, t) = LogitLosses.Pair(student, teacher, Name);
        var perPosition = Divergence.PerPosition(LogitLosses.LogSoftmax(t, Temperature), LogitLosses.LogSoftmax(s, Temperature));
        return Result(LogitLosses.Reduce(perPosition, batch) * (Temperature * Temperature));
    }
}

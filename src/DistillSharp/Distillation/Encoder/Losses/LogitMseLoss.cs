// Logit matching by mean squared error (Ba & Caruana 2014, "Do Deep Nets Really Need to be
// Deep?"; the T→∞ limit of Hinton et al.'s soft targets):
//   L_mse = mean over positions and classes of (z_s − z_t)²
// (B, C) logits: mean over B·C. (B, T, V) logits: mean over real tokens of the per-token mean over V.
using DistillSharp.Models;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Mean squared error between raw student and teacher logits.</summary>
public sealed class LogitMseLoss : LossTerm
{
    /// <summary>Creates the term.</summary>
    public LogitMseLoss() : base("logit_mse") { }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Logits = true };

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var (s, t) = LogitLosses.Pair(student, teacher, Name);
        var perPosition = (s - t).square().mean([-1]);                         // (B) or (B, T)
        return Result(LogitLosses.Reduce(perPosition, batch));
    }
}

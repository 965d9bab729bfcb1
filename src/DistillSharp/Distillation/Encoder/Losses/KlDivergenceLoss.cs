// Logit distillation, Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural Network":
//   p_t = softmax(z_t / T),  p_s = softmax(z_s / T)
//   L_kl = T² · KL(p_t ‖ p_s) = T² · Σ_v p_t,v (log p_t,v − log p_s,v)
// The T² keeps the gradient scale independent of T (soft-target gradients scale as 1/T²).
// (B, C) logits: mean over the batch. (B, T, V) logits: mean over real tokens (attention mask 1).

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Forward KL(teacher ‖ student) on tempered logits, scaled by T².</summary>
public sealed class KlDivergenceLoss : TemperedKlLoss
{
    /// <summary>Creates the term.</summary>
    public KlDivergenceLoss(double temperature, string name = "kl") : base(temperature, name, studentFirst: false) { }
}

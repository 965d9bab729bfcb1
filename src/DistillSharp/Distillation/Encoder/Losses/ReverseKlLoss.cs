// Reverse (mode-seeking) KL, as used for LLM distillation by Gu et al. 2024 ("MiniLLM") and as
// the β→1 end of GKD (Agarwal et al. 2024):
//   L_rkl = T² · KL(p_s ‖ p_t) = T² · Σ_v p_s,v (log p_s,v − log p_t,v)
// with p = softmax(z / T); the T² matches the forward-KL term so the two mix at equal scale.
// (B, C) logits: mean over the batch. (B, T, V) logits: mean over real tokens.

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Reverse KL(student ‖ teacher) on tempered logits, scaled by T².</summary>
public sealed class ReverseKlLoss : TemperedKlLoss
{
    /// <summary>Creates the term.</summary>
    public ReverseKlLoss(double temperature) : base(temperature, "reverse_kl", studentFirst: true) { }
}

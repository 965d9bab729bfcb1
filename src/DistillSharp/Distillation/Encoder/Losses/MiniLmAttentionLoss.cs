// MiniLM self-attention distribution transfer (Wang et al. 2020, "MiniLM: Deep Self-Attention
// Distillation for Task-Agnostic Compression of Pre-Trained Transformers", Eq. 5):
//   L_AT = 1/(A_h·|x|) Σ_a Σ_q KL(A^T_{L,a,q} ‖ A^S_{M,a,q})
// A = attention probabilities of the teacher's layer L and the student's layer M (by default the
// last of each), per head a and query q. Padding: keys are renormalised over the real tokens
// (padded keys excluded; a properly masked map is unchanged) and padded query rows are dropped;
// logs use max(p, 1e-30) so there is no log(0). Head counts must match (v1); for different
// head counts use minilm_relation.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>KL(teacher ‖ student) between per-head attention distributions of one layer pair.</summary>
public sealed class MiniLmAttentionLoss : AttentionPairLoss
{
    /// <summary>Creates the term; negative layers count from the last (−1 = last).</summary>
    public MiniLmAttentionLoss(LossContext context, int layer, int teacherLayer) : base("minilm_attention", context, layer, teacherLayer) { }

    /// <inheritdoc/>
    protected override Tensor Compare(Tensor s, Tensor t, Tensor tokens)
    {
        var logS = Masks.SafeLog(Masks.RealKeyProbabilities(s, tokens), tokens);
        var logT = Masks.SafeLog(Masks.RealKeyProbabilities(t, tokens), tokens);
        return Masks.RowKlOverRealTokens(logT, logS, tokens);
    }
}

// Attention-map MSE of one layer pair (the attention term of TinyBERT, Jiao et al. 2020, "TinyBERT:
// Distilling BERT for Natural Language Understanding", Eq. 3, on probabilities as in the PyTorch
// peer harness's KD step):
//   L = mean over heads and real (query, key) pairs of (A^S_{M,h,q,k} − A^T_{L,h,q,k})²
// A = attention probabilities of the student's layer M and the teacher's layer L (by default the
// last of each). Without padding this is F.mse_loss(A_s, A_t) over the whole (B, heads, T, T) map.
// Head counts must match.
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>MSE between the attention probabilities of one student and one teacher layer.</summary>
public sealed class AttentionMseLoss : AttentionPairLoss
{
    /// <summary>Creates the term; negative layers count from the last (−1 = last).</summary>
    public AttentionMseLoss(LossContext context, int layer, int teacherLayer) : base("attention_mse", context, layer, teacherLayer) { }

    /// <inheritdoc/>
    protected override Tensor Compare(Tensor s, Tensor t, Tensor tokens) => AttentionMaps.MeanOverRealPairs((s - t).square(), tokens);
}

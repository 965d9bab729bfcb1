// Sentence-embedding distillation by cosine distance (as in DistilBERT's cosine embedding loss,
// Sanh et al. 2019, applied to pooled embeddings):
//   L = 1/B Σ_b (1 − cos(W e_s,b + c, e_t,b)),   cos(x, y) = x·y / (max(‖x‖, ε)·max(‖y‖, ε))
// e = pooled embedding (B, H); W, c a learned Linear(Hs, Ht) when the widths differ (or when
// projection: always), else the identity. ε = 1e-8 guards zero vectors.

using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>1 − cosine similarity between the (projected) student and teacher pooled embeddings.</summary>
public sealed class EmbeddingCosineLoss : PooledEmbeddingLoss
{
    /// <summary>Creates the term for the given pooled widths.</summary>
    public EmbeddingCosineLoss(int studentWidth, int teacherWidth, string projection)
        : base("embedding_cosine", studentWidth, teacherWidth, projection) { }

    /// <inheritdoc/>
    protected override Tensor Distance(Tensor s, Tensor t)
    {
        var cos = (s * t).sum(-1) / (s.norm(-1).clamp_min(1e-8) * t.norm(-1).clamp_min(1e-8)); // (B)
        return (1 - cos).mean();
    }
}

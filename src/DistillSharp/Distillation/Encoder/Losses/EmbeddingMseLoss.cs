// Sentence-embedding distillation by MSE (Reimers & Gurevych 2020, "Making Monolingual Sentence
// Embeddings Multilingual using Knowledge Distillation"):
//   L = 1/(B·Ht) Σ_b ‖W e_s,b + c − e_t,b‖²
// e = pooled embedding (B, H); W, c a learned Linear(Hs, Ht) when the widths differ (or when
// projection: always), else the identity.

using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>MSE between the (projected) student and the teacher pooled embeddings.</summary>
public sealed class EmbeddingMseLoss : PooledEmbeddingLoss
{
    /// <summary>Creates the term for the given pooled widths.</summary>
    public EmbeddingMseLoss(int studentWidth, int teacherWidth, string projection)
        : base("embedding_mse", studentWidth, teacherWidth, projection) { }

    /// <inheritdoc/>
    protected override Tensor Distance(Tensor s, Tensor t) => (s - t).square().mean();
}

// Sentence-embedding distillation by cosine distance (as in DistilBERT's cosine embedding loss,
// Sanh et al. 2019, applied to pooled embeddings):
//   L = 1/B Σ_b (1 − cos(W e_s,b + c, e_t,b)),   cos(x, y) = x·y / (max(‖x‖, ε)·max(‖y‖, ε))
// e = pooled embedding (B, H); W, c a learned Linear(Hs, Ht) when the widths differ (or when
// projection: always), else the identity. ε = 1e-8 guards zero vectors.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Losses;

/// <summary>1 − cosine similarity between the (projected) student and teacher pooled embeddings.</summary>
public sealed class EmbeddingCosineLoss : LossTerm
{
    readonly WidthProjection projection;

    /// <summary>Creates the term for the given pooled widths.</summary>
    public EmbeddingCosineLoss(int studentWidth, int teacherWidth, string projection) : base("embedding_cosine")
    {
        this.projection = new WidthProjection(studentWidth, teacherWidth, projection);
        RegisterComponents();
    }

    /// <summary>The student→teacher projection.</summary>
    public WidthProjection Projection => projection;

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Pooled = true };

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var s = projection.forward(Require(student.Pooled, "pooled embedding", "student"));   // (B, Ht)
        var t = Require(teacher.Pooled, "pooled embedding", "teacher").detach();                // (B, Ht)
        Masks.CheckSameShape(s, t, Name, "projected pooled embedding");
        var cos = (s * t).sum(-1) / (s.norm(-1).clamp_min(1e-8) * t.norm(-1).clamp_min(1e-8)); // (B)
        return Result((1 - cos).mean());
    }
}

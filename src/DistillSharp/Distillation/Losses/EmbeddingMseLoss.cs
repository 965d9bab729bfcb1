// Sentence-embedding distillation by MSE (Reimers & Gurevych 2020, "Making Monolingual Sentence
// Embeddings Multilingual using Knowledge Distillation"):
//   L = 1/(B·Ht) Σ_b ‖W e_s,b + c − e_t,b‖²
// e = pooled embedding (B, H); W, c a learned Linear(Hs, Ht) when the widths differ (or when
// projection: always), else the identity.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Losses;

/// <summary>MSE between the (projected) student and the teacher pooled embeddings.</summary>
public sealed class EmbeddingMseLoss : LossTerm
{
    readonly WidthProjection projection;

    /// <summary>Creates the term for the given pooled widths.</summary>
    public EmbeddingMseLoss(int studentWidth, int teacherWidth, string projection) : base("embedding_mse")
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
        return Result((s - t).square().mean());
    }
}

using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// Base of the terms that compare pooled sentence embeddings: the student's (B, Hs) embedding is
/// mapped to the teacher's width by a <see cref="WidthProjection"/> (learned when the widths differ,
/// or always when asked), then a subclass measures its distance to the teacher's (B, Ht).
/// </summary>
public abstract class PooledEmbeddingLoss : LossTerm
{
    readonly WidthProjection projection;

    /// <summary>Creates the term for the given pooled widths.</summary>
    protected PooledEmbeddingLoss(string name, int studentWidth, int teacherWidth, string projection) : base(name)
    {
        this.projection = new WidthProjection(studentWidth, teacherWidth, projection);
        RegisterComponents();
    }

    /// <summary>The student→teacher projection.</summary>
    public WidthProjection Projection => projection;

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = new() { Pooled = true };

    /// <summary>The loss between the projected student <paramref name="s"/> and teacher <paramref name="t"/>, both (B, Ht).</summary>
    protected abstract Tensor Distance(Tensor s, Tensor t);

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var s = projection.forward(Require(student.Pooled, "pooled embedding", "student"));   // (B, Ht)
        var t = Require(teacher.Pooled, "pooled embedding", "teacher").detach();                // (B, Ht)
        Masks.CheckSameShape(s, t, Name, "projected pooled embedding");
        return Result(Distance(s, t));
    }
}

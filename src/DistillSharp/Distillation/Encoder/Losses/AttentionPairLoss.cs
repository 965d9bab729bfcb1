// The shared part of the loss terms that compare one student layer's attention probabilities with
// one teacher layer's (minilm_attention: KL per row; attention_mse: squared difference): the layer
// pair (negative = from the last), the same-head-count check, what the teacher must provide, and the
// (B, heads, T, T) maps with their shape check. Each term supplies only its comparison.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>A loss between the attention probabilities of one student layer and one teacher layer.</summary>
public abstract class AttentionPairLoss : LossTerm
{
    /// <summary>Creates the term called <paramref name="name"/>; negative layers count from the last (−1 = last).</summary>
    protected AttentionPairLoss(string name, LossContext context, int layer, int teacherLayer) : base(name)
    {
        AttentionMaps.RequireSameHeads(context, Name);
        StudentLayer = SelfRelations.ResolveLayer(layer, context.Student.Layers, $"{Name}.layer");
        TeacherLayer = SelfRelations.ResolveLayer(teacherLayer, context.Teacher.Layers, $"{Name}.teacher_layer");
        Needs = new TeacherNeeds { Attentions = TeacherNeeds.Layers(TeacherLayer) };
    }

    /// <summary>The student layer M (0-based).</summary>
    public int StudentLayer { get; }

    /// <summary>The teacher layer L (0-based).</summary>
    public int TeacherLayer { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var tokens = Masks.Tokens(batch);
        var s = AttentionMaps.Layer(student, StudentLayer, Name, "student");                 // (B, h, T, T)
        var t = AttentionMaps.Layer(teacher, TeacherLayer, Name, "teacher").detach();        // (B, h, T, T)
        Masks.CheckSameShape(s, t, Name, "attention");
        return Result(Compare(s, t, tokens));
    }

    /// <summary>The scalar loss of the student's maps <paramref name="s"/> against the teacher's <paramref name="t"/>; <paramref name="tokens"/> = real tokens (B, T).</summary>
    protected abstract Tensor Compare(Tensor s, Tensor t, Tensor tokens);
}

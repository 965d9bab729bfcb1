// Attention-map MSE of one layer pair (the attention term of TinyBERT, Jiao et al. 2020, "TinyBERT:
// Distilling BERT for Natural Language Understanding", Eq. 3, on probabilities as in the PyTorch
// peer harness's KD step):
//   L = mean over heads and real (query, key) pairs of (A^S_{M,h,q,k} − A^T_{L,h,q,k})²
// A = attention probabilities of the student's layer M and the teacher's layer L (by default the
// last of each). Without padding this is F.mse_loss(A_s, A_t) over the whole (B, heads, T, T) map.
// Head counts must match.
using DistillSharp.Models;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>MSE between the attention probabilities of one student and one teacher layer.</summary>
public sealed class AttentionMseLoss : LossTerm
{
    /// <summary>Creates the term; negative layers count from the last (−1 = last).</summary>
    public AttentionMseLoss(LossContext context, int layer, int teacherLayer) : base("attention_mse")
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
        return Result(AttentionMaps.MeanOverRealPairs((s - t).square(), tokens));
    }
}

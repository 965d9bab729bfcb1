// MiniLM self-attention distribution transfer (Wang et al. 2020, "MiniLM: Deep Self-Attention
// Distillation for Task-Agnostic Compression of Pre-Trained Transformers", Eq. 5):
//   L_AT = 1/(A_h·|x|) Σ_a Σ_q KL(A^T_{L,a,q} ‖ A^S_{M,a,q})
// A = attention probabilities of the teacher's layer L and the student's layer M (by default the
// last of each), per head a and query q. Padding: keys are renormalised over the real tokens
// (padded keys excluded; a properly masked map is unchanged) and padded query rows are dropped;
// logs use max(p, 1e-30) so there is no log(0). Head counts must match (v1); for different
// head counts use minilm_relation.
using DistillSharp.Models;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>KL(teacher ‖ student) between per-head attention distributions of one layer pair.</summary>
public sealed class MiniLmAttentionLoss : LossTerm
{
    /// <summary>Creates the term; negative layers count from the last (−1 = last).</summary>
    public MiniLmAttentionLoss(LossContext context, int layer, int teacherLayer) : base("minilm_attention")
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
        var logS = Masks.SafeLog(Masks.RealKeyProbabilities(s, tokens), tokens);
        var logT = Masks.SafeLog(Masks.RealKeyProbabilities(t, tokens), tokens);
        return Result(Masks.RowKlOverRealTokens(logT, logS, tokens));
    }
}

// MiniLM value-relation transfer (Wang et al. 2020, "MiniLM", Eq. 6–7):
//   VR = softmax(V Vᵀ / √d_k) per head,   L_VR = 1/(A_h·|x|) Σ_a Σ_q KL(VR^T_{L,a,q} ‖ VR^S_{M,a,q})
// on the values of the teacher's layer L and the student's layer M (default: the last of each).
// relation_heads: 0 uses each model's own heads (v1; head counts must match); R > 0 splits the
// concatenated values into R relation heads (MiniLMv2 style, works across head counts).
// Padded keys get score −1e9 before the softmax and are excluded; padded query rows are dropped.
using DistillSharp.Models;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>KL(teacher ‖ student) between value-relation distributions of one layer pair.</summary>
public sealed class MiniLmValueLoss : LossTerm
{
    /// <summary>Creates the term; negative layers count from the last (−1 = last).</summary>
    public MiniLmValueLoss(LossContext context, int layer, int teacherLayer, int relationHeads) : base("minilm_value")
    {
        if (relationHeads == 0) AttentionMaps.RequireSameHeads(context, Name);
        RelationHeads = relationHeads == 0 ? context.Teacher.Heads : relationHeads;
        SelfRelations.CheckHeads(RelationHeads, context, Name);
        StudentLayer = SelfRelations.ResolveLayer(layer, context.Student.Layers, $"{Name}.layer");
        TeacherLayer = SelfRelations.ResolveLayer(teacherLayer, context.Teacher.Layers, $"{Name}.teacher_layer");
        Needs = new TeacherNeeds { Values = TeacherNeeds.Layers(TeacherLayer) };
    }

    /// <summary>The student layer M (0-based).</summary>
    public int StudentLayer { get; }

    /// <summary>The teacher layer L (0-based).</summary>
    public int TeacherLayer { get; }

    /// <summary>R: relation heads the values are split into.</summary>
    public int RelationHeads { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var tokens = Masks.Tokens(batch);
        var vs = SelfRelations.Vectors(student, 'v', StudentLayer, Name, "student");          // (B, hs, T, ds)
        var vt = SelfRelations.Vectors(teacher, 'v', TeacherLayer, Name, "teacher").detach(); // (B, ht, T, dt)
        var logS = SelfRelations.LogRelation(vs, RelationHeads, tokens);                       // (B, R, T, T)
        var logT = SelfRelations.LogRelation(vt, RelationHeads, tokens);
        return Result(Masks.RowKlOverRealTokens(logT, logS, tokens));
    }
}

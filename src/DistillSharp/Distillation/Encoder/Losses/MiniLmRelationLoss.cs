// MiniLMv2 multi-head self-attention relation distillation (Wang et al. 2021, "MiniLMv2:
// Multi-Head Self-Attention Relation Distillation for Compressing Pretrained Transformers", Eq. 1–4):
//   for relation (i, j) ∈ {QQ, KK, VV}: concatenate the heads of A_i, split into R relation heads,
//   R_ij = softmax(A_i,r A_j,rᵀ / √d_r);
//   L = Σ_(i,j) 1/(R·|x|) Σ_r Σ_q KL(R^T_ij,r,q ‖ R^S_ij,r,q)
// Because both models are split into the same R relation heads, student and teacher may have
// different head counts and widths (R must divide both widths). relation_heads 0 = the teacher's
// head count. Layers: the student's last by default and a chosen teacher layer (MiniLMv2 uses an
// upper-middle teacher layer for large teachers). Padded keys are excluded, padded queries dropped.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Sum of KL(teacher ‖ student) over the chosen Q-Q / K-K / V-V relations.</summary>
public sealed class MiniLmRelationLoss : LossTerm
{
    /// <summary>The relation names the config accepts.</summary>
    public static readonly string[] RelationNames = ["qq", "kk", "vv"];

    /// <summary>Creates the term; negative layers count from the last (−1 = last).</summary>
    public MiniLmRelationLoss(LossContext context, int layer, int teacherLayer, int relationHeads, IReadOnlyList<string> relations)
        : base("minilm_relation")
    {
        if (relations.Count == 0 || relations.Any(r => !RelationNames.Contains(r)))
            throw new ArgumentException($"relations must be a non-empty subset of {string.Join(", ", RelationNames)}, got [{string.Join(", ", relations)}]", nameof(relations));
        RelationHeads = relationHeads == 0 ? context.Teacher.Heads : relationHeads;
        SelfRelations.CheckHeads(RelationHeads, context, Name);
        StudentLayer = SelfRelations.ResolveLayer(layer, context.Student.Layers, $"{Name}.layer");
        TeacherLayer = SelfRelations.ResolveLayer(teacherLayer, context.Teacher.Layers, $"{Name}.teacher_layer");
        Relations = relations;
        var at = TeacherNeeds.Layers(TeacherLayer);
        var none = TeacherNeeds.Layers();
        Needs = new TeacherNeeds
        {
            Queries = relations.Contains("qq") ? at : none,
            Keys = relations.Contains("kk") ? at : none,
            Values = relations.Contains("vv") ? at : none,
        };
    }

    /// <summary>The student layer (0-based).</summary>
    public int StudentLayer { get; }

    /// <summary>The teacher layer (0-based).</summary>
    public int TeacherLayer { get; }

    /// <summary>R.</summary>
    public int RelationHeads { get; }

    /// <summary>The relations summed ("qq", "kk", "vv").</summary>
    public IReadOnlyList<string> Relations { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var tokens = Masks.Tokens(batch);
        var scalars = new Dictionary<string, double>();
        Tensor? total = null;
        foreach (var relation in Relations)
        {
            var which = relation[0];
            var s = SelfRelations.Vectors(student, which, StudentLayer, Name, "student");
            var t = SelfRelations.Vectors(teacher, which, TeacherLayer, Name, "teacher").detach();
            var kl = Masks.RowKlOverRealTokens(
                SelfRelations.LogRelation(t, RelationHeads, tokens), SelfRelations.LogRelation(s, RelationHeads, tokens), tokens);
            scalars[$"{Name}/{relation}"] = kl.detach().to_type(TorchSharp.torch.ScalarType.Float64).item<double>();
            total = total is null ? kl : total + kl;
        }
        return Result(total!, scalars);
    }
}

// In-batch contrastive loss (InfoNCE; van den Oord et al. 2018, "Representation Learning with
// Contrastive Predictive Coding"; with in-batch negatives as in SimCSE, Gao et al. 2021, and
// sentence-transformers' MultipleNegativesRankingLoss):
//   a_i, b_j = student pooled embeddings of pair i's anchor and pair j's positive, L2-normalised
//   S_ij = cos(a_i, b_j) / τ
//   L = − 1/P Σ_i Σ_j y_ij · log softmax_j(S_i·)
// Plain InfoNCE has y = I (anchor i's positive is b_i; every other b_j is a negative).
// Teacher-guided variant (teacher_mix α > 0): y = (1 − α)·I + α·softmax_j(S^t_i· ) where S^t is the
// same similarity in the teacher's embedding space, i.e. the student also learns how similar the
// teacher finds the negatives (soft in-batch targets, in the spirit of RocketQAv2/"dual" distillation).
// symmetric: true also scores positives against anchors (S transposed) and averages both directions.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>InfoNCE over the batch's (anchor, positive) pairs, optionally with teacher soft targets.</summary>
public sealed class ContrastiveLoss : LossTerm
{
    /// <summary>Creates the term.</summary>
    public ContrastiveLoss(double temperature, double teacherMix, bool symmetric) : base("contrastive")
    {
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "temperature must be > 0");
        if (!(teacherMix >= 0 && teacherMix <= 1)) throw new ArgumentOutOfRangeException(nameof(teacherMix), teacherMix, "teacher_mix must be in [0, 1]");
        Temperature = temperature;
        TeacherMix = teacherMix;
        Symmetric = symmetric;
        Needs = new TeacherNeeds { Pooled = teacherMix > 0 };
    }

    /// <summary>τ.</summary>
    public double Temperature { get; }

    /// <summary>α: weight of the teacher's soft targets.</summary>
    public double TeacherMix { get; }

    /// <summary>Whether both directions are scored.</summary>
    public bool Symmetric { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var pairs = batch.Pairs ?? throw new DistillSharpException($"loss '{Name}' needs (anchor, positive) pairs in the batch, but it has none");
        var pooled = Require(student.Pooled, "pooled embedding", "student");
        if (pairs.dim() != 2 || pairs.shape[1] != 2 || pairs.shape[0] < 1)
            throw new DistillSharpException($"loss '{Name}': pairs must be (P, 2) with P >= 1, got ({string.Join(", ", pairs.shape)})");

        var scores = Similarities(pooled, pairs);                                // (P, P)
        var targets = eye(pairs.shape[0], dtype: scores.dtype, device: scores.device);
        if (TeacherMix > 0)
        {
            var teacherScores = Similarities(Require(teacher.Pooled, "pooled embedding", "teacher").detach(), pairs);
            targets = (1 - TeacherMix) * targets + TeacherMix * teacherScores.softmax(-1);
        }
        var loss = CrossEntropy(scores, targets);
        if (Symmetric)
            loss = 0.5 * (loss + CrossEntropy(scores.t(), TeacherMix > 0 ? Transposed(teacher, pairs, targets) : targets));

        var accuracy = scores.argmax(-1).eq(arange(pairs.shape[0], device: scores.device)).to_type(ScalarType.Float64).mean().item<double>();
        return Result(loss, new Dictionary<string, double> { [$"{Name}/accuracy"] = accuracy });
    }

    Tensor Similarities(Tensor pooled, Tensor pairs)
    {
        var unit = nn.functional.normalize(pooled, p: 2, dim: -1);               // (B, H)
        var anchors = unit.index_select(0, pairs[.., 0]);                         // (P, H)
        var positives = unit.index_select(0, pairs[.., 1]);                       // (P, H)
        return anchors.matmul(positives.t()) / Temperature;                      // (P, P)
    }

    Tensor Transposed(ModelOutput teacher, Tensor pairs, Tensor targets)
    {
        var teacherScores = Similarities(teacher.Pooled!.detach(), pairs).t();
        return (1 - TeacherMix) * eye(pairs.shape[0], dtype: targets.dtype, device: targets.device) + TeacherMix * teacherScores.softmax(-1);
    }

    static Tensor CrossEntropy(Tensor scores, Tensor targets) =>
        -(targets * scores.log_softmax(-1)).sum(-1).mean();
}

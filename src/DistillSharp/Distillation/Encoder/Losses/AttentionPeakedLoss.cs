// Attention-map MSE weighted by how peaked the teacher's row is — the variant of
// attention_weighted whose weight carries signal:
//   Â        = attention renormalised over the sequence's real keys (padded keys 0)
//   H_bhq    = − Σ_k Â_t[b,h,q,k] log Â_t[b,h,q,k]                (row entropy, real keys only)
//   w_bhq    = 1 − H_bhq / log L_b    (L_b = real tokens of sequence b; w = 1 when L_b = 1)
//   L        = mean over heads and real (query, key) pairs of w_bhq · (Â_s − Â_t)²,
//              averaged over mapped layer pairs
// w is 0 for a uniform row (entropy log L: the head attends everywhere, little to learn) and 1 for
// a one-hot row (entropy 0: a sharp, informative pattern), so sharp teacher heads dominate. This is
// the "peaked rows weigh more" reading of the article's goal ("avoid over-penalising unimportant
// heads"), normalised by log L so short and long sequences are comparable. No projection: maps
// are compared directly, so head counts must match. The weight is computed from the (frozen)
// teacher and is not differentiated.
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Attention-map MSE weighted by the teacher rows' normalised peakedness.</summary>
public sealed class AttentionPeakedLoss : LossTerm
{
    readonly IReadOnlyList<(int Student, int Teacher)> pairs;

    /// <summary>Creates the term.</summary>
    public AttentionPeakedLoss(LossContext context, LayerMap layerMap) : base("attention_peaked")
    {
        AttentionMaps.RequireSameHeads(context, Name);
        pairs = layerMap.Resolve(context.Student.Layers, context.Teacher.Layers, "attention_peaked.layer_map");
        Needs = new TeacherNeeds { Attentions = TeacherNeeds.Layers(pairs.Select(p => p.Teacher)) };
    }

    /// <summary>The (student, teacher) layer pairs.</summary>
    public IReadOnlyList<(int Student, int Teacher)> LayerPairs => pairs;

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <summary>w = 1 − H(row) / log L over real keys: (B, heads, T, 1), in [0, 1].</summary>
    public static Tensor Weight(Tensor teacherAttention, Tensor tokens)
    {
        var p = Masks.RealKeyProbabilities(teacherAttention, tokens);                       // (B, h, T, T)
        var entropy = -(p * Masks.SafeLog(p, tokens)).sum(-1, keepdim: true);               // (B, h, T, 1)
        var length = tokens.sum(-1).to_type(teacherAttention.dtype).view(-1, 1, 1, 1);      // (B, 1, 1, 1)
        var logLength = length.clamp_min(2).log();
        var w = 1 - entropy / logLength;
        return where(length.gt(1), w, ones_like(w)).clamp(0, 1);
    }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var tokens = Masks.Tokens(batch);
        var scalars = new Dictionary<string, double>();
        Tensor? total = null;
        foreach (var (sl, tl) in pairs)
        {
            var s = AttentionMaps.Layer(student, sl, Name, "student");                      // (B, h, T, T)
            var t = AttentionMaps.Layer(teacher, tl, Name, "teacher").detach();             // (B, h, T, T)
            Masks.CheckSameShape(s, t, Name, $"attention {sl}→{tl}");
            var w = Weight(t, tokens);                                                       // (B, h, T, 1)
            var diff = Masks.RealKeyProbabilities(s, tokens) - Masks.RealKeyProbabilities(t, tokens);
            var pairLoss = AttentionMaps.MeanOverRealPairs(w * diff.square(), tokens);
            scalars[$"{Name}/s{sl}-t{tl}"] = pairLoss.detach().to_type(ScalarType.Float64).item<double>();
            total = total is null ? pairLoss : total + pairLoss;
        }
        return Result(total! / pairs.Count, scalars);
    }
}

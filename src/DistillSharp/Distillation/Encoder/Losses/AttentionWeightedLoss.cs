// Attention transfer with "dynamic weights", EXACTLY as the product owner's reference (the
// article's core/attention.py AttentionDistiller) specifies, with two choices it leaves open:
//   P   = Linear(A_s)                         learned, over the last (key) axis of the map
//   w   = sigmoid(mean_k A_t[b,h,q,k])        (B, heads, T, 1)
//   L   = mean over heads and real (query, key) pairs of (P·w − A_t·w)²,  averaged over mapped layers
//
// Choice 1 — what the Linear acts on. The reference writes nn.Linear(head_dim, head_dim) applied
// to student_attn, but attention probabilities are (B, heads, T, T): the last axis is the key
// length T, not head_dim, so the reference only runs when T happens to equal head_dim (64 for
// BERT-base with max_len 64). The alternative reading — project the per-head context (B, heads,
// T, head_dim) — does not type-check against the rest of the formula, which multiplies by a
// (B, heads, T, 1) weight from the teacher's attention and compares with teacher_attn (B, heads,
// T, T). So the Linear acts on the key axis: Linear(T_max, T_max) with T_max = max_len; a batch
// with T < T_max uses the top-left W[:T, :T] and b[:T], which equals zero-padding the map to T_max
// and cropping the output (padded keys have probability 0). Padded keys of the student map are
// set to 0 before projecting so padding cannot leak in through the Linear.
//
// Choice 2 — init. PyTorch's default Linear init (uniform ±1/√fan_in), as the reference; with
// projection_init: identity the map starts as P = A_s.
//
// Caveat, documented and tested: each row of a softmax map sums to 1 over its T keys (padded keys
// are 0), so mean_k A_t = 1/T for EVERY row and w = sigmoid(1/T) is one constant: the "dynamic
// weight" is a fixed rescaling by sigmoid(1/T)² and carries no signal. See attention_peaked.
using DistillSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>The article's weighted attention-map MSE through a learned key-axis Linear.</summary>
public sealed class AttentionWeightedLoss : LossTerm
{
    readonly ModuleList<Linear> projections = new();
    readonly IReadOnlyList<(int Student, int Teacher)> pairs;

    /// <summary>Creates the term; one Linear(max_len, max_len) per mapped layer pair.</summary>
    public AttentionWeightedLoss(LossContext context, LayerMap layerMap, string projectionInit) : base("attention_weighted")
    {
        if (projectionInit is not ("default" or "identity"))
            throw new ArgumentException($"projection_init must be one of default, identity, got '{projectionInit}'", nameof(projectionInit));
        AttentionMaps.RequireSameHeads(context, Name);
        MaxLength = context.Student.MaxLength;
        pairs = layerMap.Resolve(context.Student.Layers, context.Teacher.Layers, "attention_weighted.layer_map");
        foreach (var _ in pairs)
        {
            var linear = nn.Linear(MaxLength, MaxLength);
            if (projectionInit == "identity")
                using (no_grad()) { nn.init.eye_(linear.weight!); nn.init.zeros_(linear.bias!); }
            projections.Add(linear);
        }
        Needs = new TeacherNeeds { Attentions = TeacherNeeds.Layers(pairs.Select(p => p.Teacher)) };
        RegisterComponents();
    }

    /// <summary>T_max: the projection's size.</summary>
    public int MaxLength { get; }

    /// <summary>The (student, teacher) layer pairs.</summary>
    public IReadOnlyList<(int Student, int Teacher)> LayerPairs => pairs;

    /// <summary>The per-pair Linear(T_max, T_max), in <see cref="LayerPairs"/> order.</summary>
    public IReadOnlyList<Linear> Projections => projections.ToList();

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <summary>w = sigmoid(mean over keys of the teacher map): (B, heads, T, 1).</summary>
    public static Tensor Weight(Tensor teacherAttention, Tensor tokens) =>
        AttentionMaps.ZeroPaddedKeys(teacherAttention, tokens).mean([-1], keepdim: true).sigmoid();

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var tokens = Masks.Tokens(batch);
        var scalars = new Dictionary<string, double>();
        Tensor? total = null;
        for (var i = 0; i < pairs.Count; i++)
        {
            var (sl, tl) = pairs[i];
            var s = AttentionMaps.Layer(student, sl, Name, "student");                      // (B, h, T, T)
            var t = AttentionMaps.Layer(teacher, tl, Name, "teacher").detach();             // (B, h, T, T)
            Masks.CheckSameShape(s, t, Name, $"attention {sl}→{tl}");
            var length = (int)s.shape[^1];
            if (length > MaxLength)
                throw new DistillSharpException($"loss '{Name}': batch length {length} exceeds max_len {MaxLength} that sized the projection");
            var linear = projections[i];
            var w = Weight(t, tokens);                                                       // (B, h, T, 1)
            var projected = nn.functional.linear(AttentionMaps.ZeroPaddedKeys(s, tokens),
                linear.weight![..length, ..length], linear.bias![..length]);                 // (B, h, T, T)
            var pairLoss = AttentionMaps.MeanOverRealPairs((projected * w - t * w).square(), tokens);
            scalars[$"{Name}/s{sl}-t{tl}"] = pairLoss.detach().to_type(ScalarType.Float64).item<double>();
            total = total is null ? pairLoss : total + pairLoss;
        }
        return Result(total! / pairs.Count, scalars);
    }
}

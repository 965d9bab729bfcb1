// Hidden-state distillation (TinyBERT, Jiao et al. 2020, Eq. 7–8, "FitNets"-style hints):
//   L = 1/|M| Σ_(s,t)∈M  mean over real tokens of  1/Ht ‖W_st h_s + c_st − h_t‖²
// M = the layer map (uniform / last-k / explicit pairs, see LayerMap) plus, with
// include_embeddings, the embedding-output pair (0 ↔ 0). Every pair has its own Linear(Hs, Ht)
// when the widths differ (or projection: always), else the identity. Averaging over pairs (not
// TinyBERT's sum) keeps the scale independent of the number of pairs. Padding is excluded.
using DistillSharp.Models;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>MSE between mapped student and teacher hidden states through learned projections.</summary>
public sealed class HiddenMseLoss : LossTerm
{
    readonly ModuleList<WidthProjection> projections = new();
    readonly List<(int Student, int Teacher)> pairs = [];

    /// <summary>Creates the term; pairs are hidden-state indices after resolving the map.</summary>
    public HiddenMseLoss(LossContext context, LayerMap layerMap, bool includeEmbeddings, string projection) : base("hidden_mse")
    {
        if (includeEmbeddings) pairs.Add((0, 0));
        pairs.AddRange(layerMap.Resolve(context.Student.Layers, context.Teacher.Layers, "hidden_mse.layer_map")
            .Select(p => (p.Student + 1, p.Teacher + 1)));
        foreach (var _ in pairs)
            projections.Add(new WidthProjection(context.Student.Hidden, context.Teacher.Hidden, projection));
        Needs = new TeacherNeeds { HiddenStates = TeacherNeeds.Layers(pairs.Select(p => p.Teacher)) };
        RegisterComponents();
    }

    /// <summary>The (student, teacher) hidden-state index pairs (0 = embeddings, l+1 = layer l).</summary>
    public IReadOnlyList<(int Student, int Teacher)> HiddenStatePairs => pairs;

    /// <summary>The projection of each pair, in <see cref="HiddenStatePairs"/> order.</summary>
    public IReadOnlyList<WidthProjection> Projections => projections.ToList();

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var tokens = Masks.Tokens(batch);
        var scalars = new Dictionary<string, double>();
        Tensor? total = null;
        for (var i = 0; i < pairs.Count; i++)
        {
            var (si, ti) = pairs[i];
            var s = projections[i].forward(Layer(student, si, "student"));                 // (B, T, Ht)
            var t = Layer(teacher, ti, "teacher").detach();                                  // (B, T, Ht)
            Masks.CheckSameShape(s, t, Name, $"hidden state {si}→{ti} (projected)");
            var pairLoss = Masks.MeanOverTokens((s - t).square().mean([-1]), tokens);
            scalars[$"{Name}/s{si}-t{ti}"] = pairLoss.detach().to_type(ScalarType.Float64).item<double>();
            total = total is null ? pairLoss : total + pairLoss;
        }
        return Result(total! / pairs.Count, scalars);
    }

    Tensor Layer(ModelOutput output, int index, string side) =>
        index < output.HiddenStates.Count ? output.HiddenStates[index]
        : throw new DistillSharpException($"loss '{Name}' needs the {side}'s hidden state {index}, but the model output has {output.HiddenStates.Count}");
}

using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// MiniLM/MiniLMv2 self-attention relations. From per-head vectors X (B, heads, T, d): concatenate
/// the heads (B, T, heads·d), split into R relation heads of width d_r = heads·d / R, and take
///   R_r = softmax(X_r X_rᵀ / √d_r)   over real keys only        (B, R, T, T)
/// With R = heads this is each head's own relation (MiniLM v1's value relation).
/// </summary>
public static class SelfRelations
{
    /// <summary>Resolves a 1-based-from-the-end or 0-based layer index; fails naming the option.</summary>
    public static int ResolveLayer(int layer, int layers, string path) =>
        layer >= 0 && layer < layers ? layer
        : layer < 0 && layer >= -layers ? layers + layer
        : throw new DistillSharpException($"{path} must be in -{layers}..{layers - 1} (negative counts from the last layer), got {layer}");

    /// <summary>Fails unless R divides both models' concatenated widths.</summary>
    public static void CheckHeads(int relationHeads, LossContext context, string owner)
    {
        foreach (var (side, shape) in new[] { ("student", context.Student), ("teacher", context.Teacher) })
            if (shape.Hidden % relationHeads != 0)
                throw new DistillSharpException(
                    $"loss '{owner}': relation_heads {relationHeads} must divide the {side}'s width {shape.Hidden} (heads × head_dim)");
    }

    /// <summary>Per-layer Q, K or V of a model output ("q", "k", "v").</summary>
    public static Tensor Vectors(ModelOutput output, char which, int layer, string owner, string side)
    {
        var (list, name) = which switch
        {
            'q' => (output.Queries, "queries"),
            'k' => (output.Keys, "keys"),
            _ => (output.Values, "values"),
        };
        if (list is null || layer >= list.Count)
            throw new DistillSharpException($"loss '{owner}' needs the {side}'s {name} of layer {layer}, but the model output has {(list is null ? "none" : $"{list.Count} layers")}");
        return list[layer];
    }

    /// <summary>log R_r over real keys, 0 at padded keys: (B, R, T, T).</summary>
    public static Tensor LogRelation(Tensor perHead, int relationHeads, Tensor tokens)
    {
        var (b, heads, t, d) = ((int)perHead.shape[0], (int)perHead.shape[1], (int)perHead.shape[2], (int)perHead.shape[3]);
        var width = heads * d / relationHeads;
        var split = perHead.permute(0, 2, 1, 3).reshape(b, t, relationHeads, width).permute(0, 2, 1, 3); // (B, R, T, d_r)
        var scores = split.matmul(split.transpose(-1, -2)) / Math.Sqrt(width);                          // (B, R, T, T)
        var keys = tokens.unsqueeze(1).unsqueeze(1);                                                     // (B, 1, 1, T)
        var logR = scores.masked_fill(keys.logical_not(), Masks.MaskedScore).log_softmax(-1);
        return where(keys, logR, zeros_like(logR));
    }
}

using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>What the attention-map terms share: layer lookup, head-count check, per-pair masks.</summary>
public static class AttentionMaps
{
    /// <summary>Layer <paramref name="layer"/>'s attention probabilities (B, heads, T, T).</summary>
    public static Tensor Layer(ModelOutput output, int layer, string owner, string side) =>
        layer < output.Attentions.Count ? output.Attentions[layer]
        : throw new DistillSharpException($"loss '{owner}' needs the {side}'s attention of layer {layer}, but the model output has {output.Attentions.Count} layers");

    /// <summary>Fails unless student and teacher have the same head count.</summary>
    public static void RequireSameHeads(LossContext context, string owner)
    {
        if (context.Student.Heads != context.Teacher.Heads)
            throw new DistillSharpException(
                $"loss '{owner}' compares attention maps head by head, but the student has {context.Student.Heads} heads and the teacher {context.Teacher.Heads}; " +
                "use 'minilm_relation', which works with different head counts");
    }

    /// <summary>(B, 1, T, T) booleans: query and key both real.</summary>
    public static Tensor RealPairs(Tensor tokens) =>
        tokens.unsqueeze(1).unsqueeze(-1).logical_and(tokens.unsqueeze(1).unsqueeze(2));

    /// <summary>
    /// Mean of <paramref name="values"/> (B, heads, T, T) over heads and real (query, key) pairs.
    /// </summary>
    public static Tensor MeanOverRealPairs(Tensor values, Tensor tokens)
    {
        var pairs = RealPairs(tokens).expand_as(values);
        var sum = where(pairs, values, zeros_like(values)).sum();
        return sum / pairs.sum().clamp_min(1).to_type(values.dtype);
    }

    /// <summary>Padded keys set to 0 (no renormalisation). (B, heads, T, T).</summary>
    public static Tensor ZeroPaddedKeys(Tensor attention, Tensor tokens) =>
        where(tokens.unsqueeze(1).unsqueeze(1), attention, zeros_like(attention));
}

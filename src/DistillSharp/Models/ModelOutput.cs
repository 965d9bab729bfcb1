using static TorchSharp.torch;

namespace DistillSharp.Models;

/// <summary>
/// Everything a forward pass exposes for distillation. Lists are indexed by layer; the tensors
/// belong to the caller's dispose scope.
/// </summary>
public sealed class ModelOutput
{
    /// <summary>Embedding output followed by each layer's output: L+1 tensors of (B, T, H).</summary>
    public required IReadOnlyList<Tensor> HiddenStates { get; init; }

    /// <summary>Each layer's attention probabilities, softmax over the last axis: L tensors of (B, heads, T, T).</summary>
    public required IReadOnlyList<Tensor> Attentions { get; init; }

    /// <summary>Per-layer queries (B, heads, T, head_dim), when requested.</summary>
    public IReadOnlyList<Tensor>? Queries { get; init; }

    /// <summary>Per-layer keys (B, heads, T, head_dim), when requested.</summary>
    public IReadOnlyList<Tensor>? Keys { get; init; }

    /// <summary>Per-layer values (B, heads, T, head_dim), when requested.</summary>
    public IReadOnlyList<Tensor>? Values { get; init; }

    /// <summary>1 for real tokens, 0 for padding: (B, T), int64.</summary>
    public required Tensor AttentionMask { get; init; }

    /// <summary>Pooled sentence embedding (B, H), when the model pools.</summary>
    public Tensor? Pooled { get; init; }

    /// <summary>Logits: (B, T, V) for language models, (B, C) for classifiers.</summary>
    public Tensor? Logits { get; init; }

    /// <summary>The last layer's hidden state (B, T, H).</summary>
    public Tensor LastHiddenState => HiddenStates[^1];

    /// <summary>Number of transformer layers.</summary>
    public int Layers => Attentions.Count;
}

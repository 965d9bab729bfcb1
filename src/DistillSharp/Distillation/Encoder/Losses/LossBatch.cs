using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// The batch-level inputs a loss needs besides the two models' outputs.
/// </summary>
public sealed record LossBatch
{
    /// <summary>1 for real tokens, 0 for padding: (B, T) int64. The authority for every token mask.</summary>
    public required Tensor AttentionMask { get; init; }

    /// <summary>
    /// Task labels: (B) int64 class ids for (B, C) logits, or (B, T) token ids for (B, T, V)
    /// logits, where <see cref="IgnoreIndex"/> marks tokens without a label.
    /// </summary>
    public Tensor? Labels { get; init; }

    /// <summary>Label value that the cross-entropy skips (PyTorch's convention, −100).</summary>
    public long IgnoreIndex { get; init; } = -100;

    /// <summary>
    /// Positive pairs for the contrastive loss: (P, 2) int64 rows of the batch, (anchor, positive).
    /// Anchor i's positive is pair i's second row; every other pair's positive is a negative.
    /// </summary>
    public Tensor? Pairs { get; init; }
}

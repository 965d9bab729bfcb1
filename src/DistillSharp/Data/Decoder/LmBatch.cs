using static TorchSharp.torch;

namespace DistillSharp.Data.Decoder;

/// <summary>
/// A next-token batch as plain arrays (no tensors, so a batch can be kept or dropped without a
/// dispose scope). Position t of row b feeds <c>InputIds[b, t]</c> and is scored on predicting
/// <c>Targets[b, t]</c>, only where <c>LossMask[b, t]</c> = 1. Row-major (B, T) arrays.
/// </summary>
/// <param name="BatchSize">B.</param>
/// <param name="Length">T.</param>
/// <param name="InputIds">(B, T) token ids fed to the model; padding is 0.</param>
/// <param name="Targets">(B, T) next-token ids; 0 where not scored.</param>
/// <param name="AttentionMask">(B, T) 1 on real tokens, 0 on right padding.</param>
/// <param name="LossMask">(B, T) 1 where the target is scored (all real positions when pre-training, response tokens in SFT).</param>
/// <param name="ExampleIds">Per row: the block or example index in the un-shuffled data (the sparse teacher cache's key).</param>
public sealed record LmBatch(int BatchSize, int Length, long[] InputIds, long[] Targets, long[] AttentionMask, long[] LossMask, long[] ExampleIds)
{
    /// <summary>Scored positions in the batch.</summary>
    public long ScoredTokens => LossMask.Sum();

    /// <summary>Real (non-padding) input tokens.</summary>
    public long RealTokens => AttentionMask.Sum();

    /// <summary>(B, T) int64 input ids in the current dispose scope.</summary>
    public Tensor InputTensor() => tensor(InputIds, BatchSize, Length);

    /// <summary>(B, T) int64 targets.</summary>
    public Tensor TargetTensor() => tensor(Targets, BatchSize, Length);

    /// <summary>(B, T) int64 attention mask.</summary>
    public Tensor AttentionTensor() => tensor(AttentionMask, BatchSize, Length);

    /// <summary>(B, T) boolean loss mask.</summary>
    public Tensor LossMaskTensor() => tensor(LossMask, BatchSize, Length).gt(0);

    /// <summary>Number of scored positions of row <paramref name="row"/>.</summary>
    public int ScoredInRow(int row)
    {
        int n = 0;
        for (int t = 0; t < Length; t++) n += (int)LossMask[row * Length + t];
        return n;
    }
}


/// <summary>A deterministic, resumable source of <see cref="LmBatch"/>es.</summary>
public interface ILmBatchSource
{
    /// <summary>The next batch to be served.</summary>
    DataPosition Position { get; set; }

    /// <summary>Batches per epoch.</summary>
    int BatchesPerEpoch { get; }

    /// <summary>A SHA-256 (hex) over the token data and batching settings: the teacher cache's data identity.</summary>
    string ContentHash { get; }

    /// <summary>Serves the next batch and advances (wrapping into the next epoch).</summary>
    LmBatch Next();

    /// <summary>Every batch of one epoch in order, without moving <see cref="Position"/> (for evaluation).</summary>
    IEnumerable<LmBatch> Epoch(int epoch);
}

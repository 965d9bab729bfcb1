using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Models;

/// <summary>The TorchSharp view of a <see cref="TokenBatch"/> (the tokenizers live in the runtime assembly, which does not know libtorch).</summary>
public static class TokenBatchTensors
{
    /// <summary>The three inputs as (B, T) int64 tensors.</summary>
    public static (Tensor Ids, Tensor Mask, Tensor Types) ToTensors(this TokenBatch batch) =>
        (tensor(batch.InputIds), tensor(batch.AttentionMask), tensor(batch.TokenTypeIds));
}

using static TorchSharp.torch;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>Sentence pooling over (B, T, H) hidden states with a (B, T) mask.</summary>
public static class SentencePooling
{
    /// <summary>Pools and optionally L2-normalises: (B, T, H) → (B, H).</summary>
    public static Tensor Pool(Tensor hidden, Tensor attentionMask, Pooling pooling, bool normalize)
    {
        using var scope = NewDisposeScope();
        Tensor pooled;
        if (pooling == Pooling.Cls)
        {
            pooled = hidden.select(1, 0);
        }
        else
        {
            var m = attentionMask.to_type(hidden.dtype).unsqueeze(-1);     // (B, T, 1)
            var summed = (hidden * m).sum(1);                              // (B, H)
            var counts = m.sum(1).clamp_min(1e-9);                         // (B, 1), as sentence-transformers
            pooled = summed / counts;
        }
        if (normalize) pooled = nn.functional.normalize(pooled, p: 2, dim: -1, eps: 1e-12);
        return pooled.MoveToOuterDisposeScope();
    }
}

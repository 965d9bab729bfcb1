using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// What the logit terms share: fetching both sides' logits with a shape check, tempered
/// log-softmax, and the reduction — mean over the batch for (B, C) logits, mean over real tokens
/// for (B, T, V) logits.
/// </summary>
public static class LogitLosses
{
    /// <summary>Student and teacher logits, same shape, 2-D or 3-D; the teacher's detached.</summary>
    public static (Tensor Student, Tensor Teacher) Pair(ModelOutput student, ModelOutput teacher, string owner)
    {
        var s = student.Logits ?? throw new DistillSharpException($"loss '{owner}' needs the student's logits, but the model output has none");
        var t = teacher.Logits ?? throw new DistillSharpException($"loss '{owner}' needs the teacher's logits, but the model output has none");
        Masks.CheckSameShape(s, t, owner, "logits");
        if (s.dim() is not (2 or 3))
            throw new DistillSharpException($"loss '{owner}': logits must be (B, C) or (B, T, V), got ({string.Join(", ", s.shape)})");
        return (s, t.detach());
    }

    /// <summary>log softmax(z / T) over the last axis.</summary>
    public static Tensor LogSoftmax(Tensor logits, double temperature) => (logits / temperature).log_softmax(-1);

    /// <summary>Mean of per-position values: over B for (B), over real tokens for (B, T).</summary>
    public static Tensor Reduce(Tensor perPosition, LossBatch batch) =>
        perPosition.dim() == 1 ? perPosition.mean() : Masks.MeanOverTokens(perPosition, Masks.Tokens(batch));
}

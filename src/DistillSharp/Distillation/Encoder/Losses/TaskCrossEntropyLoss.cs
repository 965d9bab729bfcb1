// Task cross-entropy with label smoothing (Szegedy et al. 2016, "Rethinking the Inception
// Architecture", §7; PyTorch's label_smoothing has the same definition):
//   y' = (1 − ε) · onehot(y) + ε / C
//   L_ce = − Σ_c y'_c log p_c = (1 − ε) · (− log p_y) + ε · mean_c(− log p_c)
// with p = softmax(z_s). Teacher outputs are not used. (B, C) logits take (B) labels, mean over
// the batch; (B, T, V) logits take (B, T) labels, mean over tokens that are real (mask 1) and
// labelled (≠ ignore index).
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Cross-entropy of the student against the batch's task labels, with label smoothing.</summary>
public sealed class TaskCrossEntropyLoss : LossTerm
{
    /// <summary>Creates the term.</summary>
    public TaskCrossEntropyLoss(double labelSmoothing) : base("ce")
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>ε.</summary>
    public double LabelSmoothing { get; }

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = TeacherNeeds.None;

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var logits = Require(student.Logits, "logits", "student");
        var labels = batch.Labels ?? throw new DistillSharpException($"loss '{Name}' needs task labels, but the batch has none");
        if (logits.dim() - 1 != labels.dim() || !logits.shape[..^1].SequenceEqual(labels.shape))
            throw new DistillSharpException(
                $"loss '{Name}': logits ({string.Join(", ", logits.shape)}) need labels of shape ({string.Join(", ", logits.shape[..^1])}), got ({string.Join(", ", labels.shape)})");

        var classes = logits.shape[^1];
        var labelled = labels.ne(batch.IgnoreIndex);                              // (B) or (B, T)
        if (logits.dim() == 3) labelled = labelled.logical_and(Masks.Tokens(batch));
        var outOfRange = labelled.logical_and(labels.lt(0).logical_or(labels.ge(classes)));
        if (outOfRange.any().item<bool>())
            throw new DistillSharpException($"loss '{Name}': labels must be in 0..{classes - 1} or {batch.IgnoreIndex}");

        var logP = logits.log_softmax(-1);
        var safe = where(labelled, labels, zeros_like(labels));
        var nll = -logP.gather(-1, safe.unsqueeze(-1)).squeeze(-1);              // (B) or (B, T)
        var smooth = -logP.mean([-1]);
        var perPosition = (1 - LabelSmoothing) * nll + LabelSmoothing * smooth;
        var sum = where(labelled, perPosition, zeros_like(perPosition)).sum();
        var loss = sum / labelled.sum().clamp_min(1).to_type(sum.dtype);
        return Result(loss);
    }
}

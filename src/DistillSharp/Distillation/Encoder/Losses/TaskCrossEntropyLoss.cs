// Task cross-entropy with label smoothing (Szegedy et al. 2016, "Rethinking the Inception
// Architecture", §7) and optional class weights w, as PyTorch's
// cross_entropy(weight=w, label_smoothing=ε, reduction='mean') defines them:
//   ℓ_i = (1 − ε) · w_{y_i} · (− log p_{y_i}) + (ε / C) · Σ_c w_c · (− log p_c)
//   L_ce = Σ_i ℓ_i / Σ_i w_{y_i}
// with p = softmax(z_s); without weights (w = 1) this is (1 − ε)·NLL + ε·mean_c(− log p_c) averaged
// over the examples. Class weights (King & Zeng 2001; scikit-learn's compute_class_weight):
// "balanced" w_c = N / (C · n_c), "sqrt" w_c ∝ 1 / √n_c scaled so that Σ_c n_c · w_c = N (both keep
// the mean weight of a training example at 1); n_c counts class c's labelled training texts, and
// a class with none gets 0 (it is never a target). Teacher outputs are not used. (B, C) logits
// take (B) labels; (B, T, V) logits take (B, T) labels, counted over tokens that are real (mask 1)
// and labelled (≠ ignore index).
using DistillSharp.Models;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>Cross-entropy of the student against the batch's task labels, with label smoothing and optional class weights.</summary>
public sealed class TaskCrossEntropyLoss : LossTerm
{
    /// <summary>The <c>class_weights</c> modes: none, balanced (1 / n_c), sqrt (1 / √n_c).</summary>
    public static readonly string[] WeightModes = ["none", "balanced", "sqrt"];

    readonly double[]? _weights;

    /// <summary>Creates the term; <paramref name="classWeights"/> (one per class, ≥ 0) or null for none.</summary>
    public TaskCrossEntropyLoss(double labelSmoothing, IReadOnlyList<double>? classWeights = null) : base("ce")
    {
        if (!(labelSmoothing >= 0 && labelSmoothing < 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "label smoothing must be in [0, 1)");
        if (classWeights is not null && (classWeights.Count == 0 || classWeights.Any(w => !(w >= 0 && double.IsFinite(w)))))
            throw new ArgumentException($"class weights must be finite and ≥ 0, got [{string.Join(", ", classWeights)}]", nameof(classWeights));
        LabelSmoothing = labelSmoothing;
        _weights = classWeights?.ToArray();
    }

    /// <summary>ε.</summary>
    public double LabelSmoothing { get; }

    /// <summary>w, one per class; null = every class weighs 1.</summary>
    public IReadOnlyList<double>? ClassWeights => _weights;

    /// <inheritdoc/>
    public override TeacherNeeds Needs { get; } = TeacherNeeds.None;

    /// <summary>
    /// The class weights of <paramref name="mode"/> (one of <see cref="WeightModes"/>) for the
    /// labelled training counts <paramref name="counts"/> (class-id order); null for "none".
    /// </summary>
    public static double[]? Weights(string mode, IReadOnlyList<long> counts)
    {
        if (mode == "none") return null;
        long n = counts.Sum();
        if (counts.Count == 0 || n == 0 || counts.Any(c => c < 0))
            throw new DistillSharpException($"loss 'ce': class_weights: {mode} needs labelled training texts; the class counts are [{string.Join(", ", counts)}]");
        Func<long, double> raw = mode switch
        {
            "balanced" => c => 1.0 / c,
            "sqrt" => c => 1.0 / Math.Sqrt(c),
            _ => throw new DistillSharpException($"loss 'ce': class_weights must be one of {string.Join(", ", WeightModes)}, got '{mode}'"),
        };
        var w = counts.Select(c => c == 0 ? 0.0 : raw(c)).ToArray();
        double scale = n / counts.Select((c, i) => c * w[i]).Sum();  // Σ_c n_c · w_c = N
        return w.Select(v => v * scale).ToArray();
    }

    /// <inheritdoc/>
    public override LossResult Compute(ModelOutput student, ModelOutput teacher, LossBatch batch)
    {
        var logits = Require(student.Logits, "logits", "student");
        var labels = batch.Labels ?? throw new DistillSharpException($"loss '{Name}' needs task labels, but the batch has none");
        if (logits.dim() - 1 != labels.dim() || !logits.shape[..^1].SequenceEqual(labels.shape))
            throw new DistillSharpException(
                $"loss '{Name}': logits ({string.Join(", ", logits.shape)}) need labels of shape ({string.Join(", ", logits.shape[..^1])}), got ({string.Join(", ", labels.shape)})");

        var classes = logits.shape[^1];
        if (_weights is not null && _weights.Length != classes)
            throw new DistillSharpException($"loss '{Name}': {_weights.Length} class weights for {classes} classes");
        var labelled = labels.ne(batch.IgnoreIndex);                              // (B) or (B, T)
        if (logits.dim() == 3) labelled = labelled.logical_and(Masks.Tokens(batch));
        var outOfRange = labelled.logical_and(labels.lt(0).logical_or(labels.ge(classes)));
        if (outOfRange.any().item<bool>())
            throw new DistillSharpException($"loss '{Name}': labels must be in 0..{classes - 1} or {batch.IgnoreIndex}");

        var logP = logits.log_softmax(-1);
        var safe = where(labelled, labels, zeros_like(labels));
        var nll = -logP.gather(-1, safe.unsqueeze(-1)).squeeze(-1);              // (B) or (B, T)
        if (_weights is null)
        {
            var perPosition = (1 - LabelSmoothing) * nll + LabelSmoothing * -logP.mean([-1]);
            var sum = where(labelled, perPosition, zeros_like(perPosition)).sum();
            return Result(sum / labelled.sum().clamp_min(1).to_type(sum.dtype));
        }
        var w = tensor(_weights, logits.dtype, logits.device);                     // (C)
        var target = where(labelled, w.index_select(0, safe.flatten()).view(safe.shape), zeros_like(nll)); // (B) or (B, T): w_y, 0 if not counted
        var weighted = (1 - LabelSmoothing) * target * nll + LabelSmoothing / classes * -(logP * w).sum([-1]);
        var total = where(labelled, weighted, zeros_like(weighted)).sum();
        var denominator = target.sum();                                            // Σ_i w_{y_i}
        // No counted position (or only weight-0 classes): the loss is 0, not 0/0.
        return Result(where(denominator.gt(0), total / denominator.clamp_min(1e-12), zeros_like(total)));
    }
}

using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// The teacher's next-token distributions for a batch, either dense (all V logits) or sparse
/// (top-k ids and log-probabilities plus the log of the remaining tail mass). A KD loss asks it for
/// the teacher and student log-probabilities over one common support: the V tokens (dense) or the
/// k kept tokens + one tail bucket (sparse).
/// </summary>
public abstract class KdTeacher
{
    /// <summary>Smallest probability a bucket may have inside a log (log ≈ −69), so log 0 never appears.</summary>
    public const double MinProbability = 1e-30;

    /// <summary>
    /// Teacher (P) and student (Q) log-probabilities over the common support, at temperature
    /// <paramref name="temperature"/>: both (B, T, S); the teacher's detached.
    /// </summary>
    public abstract (Tensor LogP, Tensor LogQ) Align(Tensor studentLogits, double temperature);

    /// <summary>Checks that the student logits are (B, T, V) and agree with the teacher's (B, T).</summary>
    protected static void CheckLeading(Tensor studentLogits, long b, long t, string what)
    {
        if (studentLogits.dim() != 3 || studentLogits.shape[0] != b || studentLogits.shape[1] != t)
            throw new DistillSharpException($"student logits ({string.Join(", ", studentLogits.shape)}) must be (B, T, V) with (B, T) = ({b}, {t}) of the {what}");
    }
}

/// <summary>All V teacher logits (B, T, V); P = softmax(z_t / T).</summary>
public sealed class DenseTeacher(Tensor logits) : KdTeacher
{
    /// <summary>The teacher logits (B, T, V).</summary>
    public Tensor Logits { get; } = logits;

    /// <inheritdoc/>
    public override (Tensor LogP, Tensor LogQ) Align(Tensor studentLogits, double temperature)
    {
        CheckLeading(studentLogits, Logits.shape[0], Logits.shape[1], "dense teacher");
        if (studentLogits.shape[2] != Logits.shape[2])
            throw new DistillSharpException($"student vocabulary {studentLogits.shape[2]} differs from the teacher's {Logits.shape[2]}");
        var logP = (Logits.detach() / temperature).log_softmax(-1);       // (B, T, V)
        var logQ = (studentLogits / temperature).log_softmax(-1);         // (B, T, V)
        return (logP, logQ);
    }
}

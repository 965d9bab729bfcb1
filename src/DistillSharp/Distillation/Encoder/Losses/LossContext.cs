namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>The shape of one model, as loss terms need it to size their projections.</summary>
/// <param name="Layers">Transformer layers L.</param>
/// <param name="Hidden">Hidden width H (also the pooled width).</param>
/// <param name="Heads">Attention heads.</param>
/// <param name="MaxLength">Longest sequence a batch may have (the attention maps' T).</param>
public sealed record ModelShape(int Layers, int Hidden, int Heads, int MaxLength)
{
    /// <summary>Width of one head: H / heads.</summary>
    public int HeadDim => Hidden / Heads;
}

/// <summary>What a loss factory knows when it builds a term.</summary>
/// <param name="Student">The student's shape.</param>
/// <param name="Teacher">The teacher's shape.</param>
/// <param name="ClassCounts">Labelled training texts per class (class-id order) when the corpus has labels; null otherwise.</param>
public sealed record LossContext(ModelShape Student, ModelShape Teacher, IReadOnlyList<long>? ClassCounts = null);

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// A loss term that needs a fit on the teacher's pooled embeddings of a corpus sample before its stage
/// trains (matryoshka's principal directions). The <see cref="Distiller"/> calls <see cref="Fit"/> once
/// per stage, after building the term and before the first step, with the teacher's embeddings of the
/// stage's first <see cref="FitTexts"/> texts in the stage's seeded order (through the teacher cache).
/// </summary>
public interface ITeacherFittedTerm : ILossTerm
{
    /// <summary>How many corpus texts the fit wants (fewer when the corpus is smaller).</summary>
    int FitTexts { get; }

    /// <summary>Fits the term on the teacher's pooled embeddings, one row per text.</summary>
    void Fit(IReadOnlyList<float[]> teacherPooled);
}

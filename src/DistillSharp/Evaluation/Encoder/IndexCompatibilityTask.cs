namespace DistillSharp.Evaluation.Encoder;

/// <summary>
/// <c>index-compatibility</c>: can a user swap the student in for the teacher without re-encoding
/// their vector index? On <c>wordnet-retrieval</c>'s 2,000 held-out definitions and lemma lists:
/// R@10 and MRR of the student's queries against candidates the teacher encoded (<c>mixed_*</c>),
/// against all-student (<c>student_*</c>) and all-teacher (<c>teacher_*</c>) retrieval, the ratios
/// <c>mixed_r10_vs_teacher</c> and <c>mixed_r10_vs_student</c>; and top-10 neighbour overlap with the
/// teacher's own top 10 (|A ∩ B| / 10, averaged over queries): <c>overlap10_student</c> (student
/// queries on a student index) and <c>overlap10_mixed</c> (student queries on the teacher's index).
/// Needs <see cref="EvalContext.TeacherEmbed"/> and embeddings of the teacher's width.
/// </summary>
public sealed class IndexCompatibilityTask : IEvalTask
{
    /// <summary>Registry name.</summary>
    public const string TaskName = "index-compatibility";

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public EvalResult Run(EvalContext context)
    {
        var teacher = context.TeacherEmbed
            ?? throw new DistillSharpException($"{TaskName} compares a student with its teacher; give it a teacher model");
        var heldOut = context.Data.WordNet.Evaluation;
        var definitions = heldOut.Select(s => s.Definition).ToList();
        var lemmas = heldOut.Select(s => s.LemmaList).ToList();
        context.Log?.WriteLine($"{TaskName}: embedding {heldOut.Count} definitions and lemma lists with student and teacher ...");
        return Evaluate(
            Embeddings.Embed(context.Embed, definitions, context.BatchSize, TaskName + " student queries"),
            Embeddings.Embed(context.Embed, lemmas, context.BatchSize, TaskName + " student candidates"),
            Embeddings.Embed(teacher, definitions, context.BatchSize, TaskName + " teacher queries"),
            Embeddings.Embed(teacher, lemmas, context.BatchSize, TaskName + " teacher candidates"));
    }

    /// <summary>The metrics from the four embedding sets (query i pairs with candidate i).</summary>
    public static EvalResult Evaluate(float[][] studentQueries, float[][] studentCandidates, float[][] teacherQueries, float[][] teacherCandidates)
    {
        if (studentQueries[0].Length != teacherCandidates[0].Length)
            throw new DistillSharpException($"{TaskName}: student embeddings have {studentQueries[0].Length} dimensions, teacher {teacherCandidates[0].Length}; " +
                "a student can query a teacher's index only at the teacher's width");
        var (sq, sc, tq, tc) = (Embeddings.Normalize(studentQueries), Embeddings.Normalize(studentCandidates),
            Embeddings.Normalize(teacherQueries), Embeddings.Normalize(teacherCandidates));
        var mixed = RetrievalMetrics.FromEmbeddings(sq, tc);
        var student = RetrievalMetrics.FromEmbeddings(sq, sc);
        var teacher = RetrievalMetrics.FromEmbeddings(tq, tc);
        double overlapStudent = 0, overlapMixed = 0;
        int n = sq.Length, k = Math.Min(10, sq.Length);
        var row = new double[n];
        for (int i = 0; i < n; i++)
        {
            var teacherTop = TopOf(tq[i], tc, row, k);
            overlapStudent += TopOf(sq[i], sc, row, k).Intersect(teacherTop).Count() / (double)k;
            overlapMixed += TopOf(sq[i], tc, row, k).Intersect(teacherTop).Count() / (double)k;
        }
        double Ratio(double a, double b) => b > 0 ? a / b : 0;
        return new EvalResult(TaskName, new Dictionary<string, double>
        {
            ["mixed_r10"] = mixed.RecallAt(10), ["mixed_mrr"] = mixed.MeanReciprocalRank,
            ["student_r10"] = student.RecallAt(10), ["student_mrr"] = student.MeanReciprocalRank,
            ["teacher_r10"] = teacher.RecallAt(10), ["teacher_mrr"] = teacher.MeanReciprocalRank,
            ["mixed_r10_vs_teacher"] = Ratio(mixed.RecallAt(10), teacher.RecallAt(10)),
            ["mixed_r10_vs_student"] = Ratio(mixed.RecallAt(10), student.RecallAt(10)),
            ["overlap10_student"] = overlapStudent / n,
            ["overlap10_mixed"] = overlapMixed / n,
        });
    }

    static int[] TopOf(float[] query, float[][] candidates, double[] row, int k)
    {
        for (int j = 0; j < candidates.Length; j++) row[j] = CompressedRetrieval.Dot(query, candidates[j]);
        return CompressedRetrieval.TopK(row, k);
    }
}

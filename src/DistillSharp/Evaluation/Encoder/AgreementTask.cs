using DistillSharp.Data;

namespace DistillSharp.Evaluation.Encoder;

/// <summary>
/// <c>agreement</c>: mean cosine similarity between the student's and the teacher's embedding of
/// the same held-out text. The texts are the held-out synsets' definitions and the first chunk
/// (≤ 300 characters) of every held-out mail: text the corpus never contains. Needs
/// <see cref="EvalContext.TeacherEmbed"/>; both embeddings must have the same size (project the
/// student first if it is narrower). Metrics: <c>mean_cosine</c>, <c>min_cosine</c>, <c>texts</c>.
/// </summary>
public sealed class AgreementTask : IEvalTask
{
    /// <summary>Registry name.</summary>
    public const string TaskName = "agreement";

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public EvalResult Run(EvalContext context)
    {
        var teacher = context.TeacherEmbed
            ?? throw new DistillSharpException($"{TaskName} compares a student with its teacher; give it a teacher model");
        var texts = HeldOutTexts(context.Data.WordNet, context.Data.Mails);
        context.Log?.WriteLine($"{TaskName}: embedding {texts.Count} held-out texts with student and teacher ...");
        return Evaluate(texts, context.Embed, teacher, context.BatchSize);
    }

    /// <summary>The held-out texts: definitions of the evaluation synsets, then the first chunk of each test mail.</summary>
    public static IReadOnlyList<string> HeldOutTexts(WordNetSplit wordnet, MailSplit mails)
    {
        var texts = wordnet.Evaluation.Select(s => s.Definition).ToList();
        foreach (var mail in mails.Test)
        {
            var chunks = SentenceChunker.Chunk(mail.Text, maxChars: 300);
            if (chunks.Count > 0) texts.Add(chunks[0]);
        }
        return texts;
    }

    /// <summary>Compares two embedding functions on given texts.</summary>
    public static EvalResult Evaluate(IReadOnlyList<string> texts, Func<IReadOnlyList<string>, float[][]> student,
        Func<IReadOnlyList<string>, float[][]> teacher, int batchSize = 64)
    {
        if (texts.Count == 0) throw new DistillSharpException($"{TaskName}: no texts to compare on");
        var s = Embeddings.Embed(student, texts, batchSize, TaskName + " student");
        var t = Embeddings.Embed(teacher, texts, batchSize, TaskName + " teacher");
        if (s[0].Length != t[0].Length)
            throw new DistillSharpException($"{TaskName}: student embeddings have {s[0].Length} dimensions, teacher {t[0].Length}; they must match");
        var cosines = s.Zip(t, Embeddings.Cosine).ToList();
        return new EvalResult(TaskName, new Dictionary<string, double>
        {
            ["mean_cosine"] = cosines.Average(),
            ["min_cosine"] = cosines.Min(),
            ["texts"] = texts.Count,
        });
    }
}

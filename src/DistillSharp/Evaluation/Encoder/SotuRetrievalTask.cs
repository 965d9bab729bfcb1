using System.Text;
using System.Text.RegularExpressions;
using DistillSharp.Data;
using DistillSharp.Runtime;

namespace DistillSharp.Evaluation.Encoder;

/// <summary>One query and the passage that answers it.</summary>
/// <param name="Query">A sentence.</param>
/// <param name="Document">The sentences right after it, packed up to <see cref="SotuRetrievalTask.DocumentMaxChars"/>.</param>
/// <param name="Origin">Where it comes from, e.g. <c>1790_george_washington_n#12</c> (speech id # sentence index).</param>
public sealed record RetrievalPair(string Query, string Document, string Origin);

/// <summary>
/// <c>sotu-retrieval</c>, the held-out domain: next-passage retrieval on US State of the Union
/// addresses (1790–2021), a source a run that evaluates this task may not distil on
/// (<see cref="EvalRegistry.HeldOutSources"/>; the pipeline refuses such a corpus). Construction,
/// per speech in id order: stage directions such as <c>[Applause]</c> are removed, the text is cut into
/// sentences (<see cref="SentenceChunker.Sentences"/>); a sentence of 40–250 characters is a query and
/// the sentences right after it, packed while they fit in 300 characters (≥ 100), are its document;
/// the next sentence is skipped so that no two pairs touch, and the walk goes on. Pairs whose query
/// or document text occurs twice are dropped; the rest, in (speech, position) order, are shuffled with
/// <see cref="DataSplits.Seed"/> and the first <see cref="Pairs"/> kept. Every query ranks all documents
/// by cosine. Metrics: <c>r1</c>, <c>r10</c>, <c>mrr</c>, <c>pairs</c>; with a teacher also
/// <c>agreement</c>: mean student–teacher cosine over the queries and documents.
/// </summary>
public sealed partial class SotuRetrievalTask : IEvalTask
{
    /// <summary>Registry name.</summary>
    public const string TaskName = "sotu-retrieval";

    /// <summary>The corpus source this task holds out.</summary>
    public const string HeldOutSource = "sotu";

    /// <summary>Query/document pairs evaluated: 2,000 texts, short enough that the task costs about as much as wordnet-retrieval per model.</summary>
    public const int Pairs = 1000;

    /// <summary>Query length bounds, in characters.</summary>
    public const int QueryMinChars = 40, QueryMaxChars = 200;

    /// <summary>Document length bounds, in characters.</summary>
    public const int DocumentMinChars = 80, DocumentMaxChars = 200;

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public EvalResult Run(EvalContext context)
    {
        var pairs = Build(context.Data.Speeches);
        context.Log?.WriteLine($"{TaskName}: embedding {pairs.Count} held-out State of the Union sentences and passages ...");
        return Evaluate(pairs, context.Embed, context.TeacherEmbed, context.BatchSize);
    }

    /// <summary>The evaluation pairs of <paramref name="speeches"/> (construction in the class summary).</summary>
    public static IReadOnlyList<RetrievalPair> Build(IReadOnlyList<LmDocument> speeches, int count = Pairs, ulong seed = DataSplits.Seed)
    {
        var all = new List<RetrievalPair>();
        foreach (var speech in speeches.OrderBy(s => s.Id, StringComparer.Ordinal))
        {
            var sentences = SentenceChunker.Sentences(StageDirection().Replace(speech.Text, " ")).ToList();
            for (int i = 0; i < sentences.Count; i++)
            {
                if (sentences[i].Length < QueryMinChars || sentences[i].Length > QueryMaxChars) continue;
                var document = new StringBuilder();
                int j = i + 1;
                for (; j < sentences.Count && document.Length + (document.Length > 0 ? 1 : 0) + sentences[j].Length <= DocumentMaxChars; j++)
                    document.Append(document.Length > 0 ? " " : "").Append(sentences[j]);
                if (document.Length < DocumentMinChars) continue;
                all.Add(new RetrievalPair(sentences[i], document.ToString(), $"{speech.Id}#{i}"));
                i = j;
            }
        }
        var queryCounts = all.GroupBy(p => DataSplits.Key(p.Query)).ToDictionary(g => g.Key, g => g.Count());
        var documentCounts = all.GroupBy(p => DataSplits.Key(p.Document)).ToDictionary(g => g.Key, g => g.Count());
        var unique = all.Where(p => queryCounts[DataSplits.Key(p.Query)] == 1 && documentCounts[DataSplits.Key(p.Document)] == 1).ToList();
        if (count < 1 || unique.Count < count)
            throw new DistillSharpException($"{TaskName}: the speeches give {unique.Count} query/passage pairs, fewer than the {count} evaluated");
        return new SplitMix64(seed).Shuffled(unique).Take(count).ToList();
    }

    /// <summary>The comparison keys (<see cref="DataSplits.Key"/>) of every evaluated text: a corpus must contain none of them.</summary>
    public static HashSet<string> HeldOutKeys(IReadOnlyList<RetrievalPair> pairs) =>
        pairs.SelectMany(p => new[] { DataSplits.Key(p.Query), DataSplits.Key(p.Document) }).ToHashSet(StringComparer.Ordinal);

    /// <summary>Retrieval (query i's answer is document i) and, with <paramref name="teacher"/>, agreement on given pairs.</summary>
    public static EvalResult Evaluate(IReadOnlyList<RetrievalPair> pairs, Func<IReadOnlyList<string>, float[][]> embed,
        Func<IReadOnlyList<string>, float[][]>? teacher = null, int batchSize = 64)
    {
        if (pairs.Count == 0) throw new DistillSharpException($"{TaskName}: no pairs to evaluate");
        var texts = pairs.Select(p => p.Query).Concat(pairs.Select(p => p.Document)).ToList();
        var vectors = Embeddings.Embed(embed, texts, batchSize, TaskName);
        var scores = RetrievalMetrics.FromEmbeddings(vectors[..pairs.Count], vectors[pairs.Count..]);
        var metrics = new Dictionary<string, double>
        {
            ["r1"] = scores.RecallAt(1),
            ["r10"] = scores.RecallAt(10),
            ["mrr"] = scores.MeanReciprocalRank,
            ["pairs"] = pairs.Count,
        };
        if (teacher is not null)
        {
            var reference = Embeddings.Embed(teacher, texts, batchSize, TaskName + " teacher");
            if (reference[0].Length == vectors[0].Length) metrics["agreement"] = vectors.Zip(reference, Embeddings.Cosine).Average();
        }
        return new EvalResult(TaskName, metrics);
    }

    // Transcribers' notes in brackets: [Applause], [Laughter], [The President paused].
    [GeneratedRegex(@"\s*\[[^\[\]]{1,60}\]")]
    private static partial Regex StageDirection();
}

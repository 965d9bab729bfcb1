using DistillSharp.Data;

namespace DistillSharp.Evaluation.Encoder;

/// <summary>
/// <c>wordnet-retrieval</c>: for each of the 2,000 held-out noun synsets, the query is its
/// definition and the candidates are every held-out synset's lemmas joined with ", "; all 2,000
/// candidates are ranked by cosine similarity. Metrics: <c>r1</c>, <c>r10</c> (recall at 1 and 10)
/// and <c>mrr</c> (mean reciprocal rank); ties rank pessimistically (<see cref="RetrievalMetrics"/>).
/// </summary>
public sealed class WordNetRetrievalTask : IEvalTask
{
    /// <summary>Registry name.</summary>
    public const string TaskName = "wordnet-retrieval";

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public EvalResult Run(EvalContext context)
    {
        var heldOut = context.Data.WordNet.Evaluation;
        context.Log?.WriteLine($"{TaskName}: embedding {heldOut.Count} definitions and {heldOut.Count} lemma lists ...");
        return Evaluate(heldOut, context.Embed, context.BatchSize);
    }

    /// <summary>Runs the task on given synsets (their definitions against their lemma lists).</summary>
    public static EvalResult Evaluate(IReadOnlyList<WordNetSynset> synsets, Func<IReadOnlyList<string>, float[][]> embed, int batchSize = 64)
    {
        if (synsets.Count == 0) throw new DistillSharpException($"{TaskName}: no synsets to evaluate");
        var queries = Embeddings.Embed(embed, synsets.Select(s => s.Definition).ToList(), batchSize, TaskName + " queries");
        var candidates = Embeddings.Embed(embed, synsets.Select(s => s.LemmaList).ToList(), batchSize, TaskName + " candidates");
        var scores = RetrievalMetrics.FromEmbeddings(queries, candidates);
        return new EvalResult(TaskName, new Dictionary<string, double>
        {
            ["r1"] = scores.RecallAt(1),
            ["r10"] = scores.RecallAt(10),
            ["mrr"] = scores.MeanReciprocalRank,
        });
    }
}

using DistillSharp.Data;
using DistillSharp.Models;

namespace DistillSharp.Evaluation.Encoder;

/// <summary>
/// <c>embedding-compression</c>: <c>wordnet-retrieval</c> (2,000 held-out definitions against their
/// lemma lists) with the embeddings compressed as a vector index would store them, and the bytes
/// each stored vector takes. Variants (metric prefixes):
/// <c>float32</c> (the reference); <c>pca{D}</c>: PCA-rotated and truncated to the first D of 384/256/128/64
/// principal directions (fp32); <c>rot{D}</c>: the same with the uncentred principal directions (eigenvectors of
/// the second moment, no mean subtracted: a pure rotation, so <c>rot384</c> is <c>float32</c> exactly); <c>int8</c> and <c>binary</c> (<see cref="CompressedRetrieval"/>), each also
/// <c>_rescore</c> (top 40 re-ranked with the float query); <c>binary_rescore20</c> and <c>binary_rescore100</c> (shortlists
/// of 20 and 100); <c>binary_cal</c> (bits against the calibration medians, <see cref="CompressedRetrieval.CalibrateBinary"/>),
/// <c>binary_cal_rescore</c> and <c>binary_cal_rescore100</c>; <c>pca128_int8</c>, <c>pca128_binary_rescore</c>, <c>rot128_int8</c>.
/// The PCA, the int8 scales and the binary thresholds are fitted on the model's embeddings of training-side texts only (the
/// definitions and lemma lists of the first <see cref="CalibrationSynsets"/> training synsets), never on
/// the evaluation texts. Per variant: <c>{v}_r10</c>, <c>{v}_mrr</c>, <c>{v}_r10_ratio</c> (to float32) and <c>{v}_bytes</c>.
/// </summary>
public sealed class EmbeddingCompressionTask : IEvalTask
{
    /// <summary>Registry name.</summary>
    public const string TaskName = "embedding-compression";

    /// <summary>Training synsets whose texts fit the PCA, the int8 scales and the binary thresholds.</summary>
    public const int CalibrationSynsets = 2000;

    /// <summary>Candidates re-ranked by rescoring in the <c>_rescore</c> variants: 4 × the 10 that R@10 looks at.</summary>
    public const int RescoreTop = 40;

    /// <summary>The shortlist of sentence-transformers' <c>semantic_search_faiss</c> at its default <c>rescore_multiplier</c> of 2 (<c>binary_rescore20</c>).</summary>
    public const int ShallowRescoreTop = 20;

    /// <summary>A 10 × shortlist (<c>binary_rescore100</c>, <c>binary_cal_rescore100</c>).</summary>
    public const int DeepRescoreTop = 100;

    /// <summary>Truncation widths after the PCA rotation (those above the model's width are left out).</summary>
    public static readonly int[] Widths = [384, 256, 128, 64];

    /// <inheritdoc />
    public string Name => TaskName;

    /// <inheritdoc />
    public EvalResult Run(EvalContext context)
    {
        var heldOut = context.Data.WordNet.Evaluation;
        var calibration = context.Data.WordNet.Training.Take(CalibrationSynsets).SelectMany(s => new[] { s.Definition, s.LemmaList }).ToList();
        context.Log?.WriteLine($"{TaskName}: embedding {heldOut.Count} definitions, {heldOut.Count} lemma lists and {calibration.Count} calibration texts ...");
        var queries = Embeddings.Embed(context.Embed, heldOut.Select(s => s.Definition).ToList(), context.BatchSize, TaskName + " queries");
        var candidates = Embeddings.Embed(context.Embed, heldOut.Select(s => s.LemmaList).ToList(), context.BatchSize, TaskName + " candidates");
        var fit = Embeddings.Embed(context.Embed, calibration, context.BatchSize, TaskName + " calibration");
        return Evaluate(queries, candidates, fit);
    }

    /// <summary>The variants on given embeddings; <paramref name="calibration"/> fits the PCA, the int8 scales and the binary thresholds.</summary>
    public static EvalResult Evaluate(float[][] queries, float[][] candidates, float[][] calibration)
    {
        int dims = queries[0].Length;
        var metrics = new Dictionary<string, double>();
        double reference = 0;
        void Add(string name, RetrievalScores scores, double bytes)
        {
            if (name == "float32") reference = scores.RecallAt(10);
            metrics[$"{name}_r10"] = scores.RecallAt(10);
            metrics[$"{name}_mrr"] = scores.MeanReciprocalRank;
            metrics[$"{name}_r10_ratio"] = reference > 0 ? scores.RecallAt(10) / reference : 0;
            metrics[$"{name}_bytes"] = bytes;
        }
        Add("float32", CompressedRetrieval.Float(queries, candidates), 4.0 * dims);
        var (nq, nc, nf) = (Embeddings.Normalize(queries), Embeddings.Normalize(candidates), Embeddings.Normalize(calibration));
        int width = Math.Min(dims, Math.Min(Widths[0], calibration.Length - 1));
        float[][] Cut(float[][] v, int w) => v.Select(x => x[..w]).ToArray();
        // The rotation fitted on the calibration texts, its truncations and, at 128 dimensions, int8 codes on top.
        (PrincipalComponents Fit, float[][] Q, float[][] C) Truncations(string prefix, bool centre)
        {
            var fit = PrincipalComponents.Fit(nf, width, centre);
            var (q, c) = (fit.ProjectAll(nq), fit.ProjectAll(nc));
            foreach (int w in Widths.Where(w => w <= fit.Count))
                Add($"{prefix}{w}", CompressedRetrieval.Float(Cut(q, w), Cut(c, w)), 4.0 * w);
            if (fit.Count >= 128)
                Add($"{prefix}128_int8", CompressedRetrieval.Int8(Cut(q, 128), Cut(c, 128), CompressedRetrieval.Int8Scales(Cut(fit.ProjectAll(nf), 128))), 128);
            return (fit, q, c);
        }
        var (pca, pq, pc) = Truncations("pca", centre: true);
        Truncations("rot", centre: false);
        var scales = CompressedRetrieval.Int8Scales(calibration);
        Add("int8", CompressedRetrieval.Int8(queries, candidates, scales), dims);
        Add("int8_rescore", CompressedRetrieval.Int8(queries, candidates, scales, RescoreTop), dims);
        Add("binary", CompressedRetrieval.Binary(queries, candidates), dims / 8.0);
        Add("binary_rescore", CompressedRetrieval.Binary(queries, candidates, RescoreTop), dims / 8.0);
        Add($"binary_rescore{ShallowRescoreTop}", CompressedRetrieval.Binary(queries, candidates, ShallowRescoreTop), dims / 8.0);
        Add($"binary_rescore{DeepRescoreTop}", CompressedRetrieval.Binary(queries, candidates, DeepRescoreTop), dims / 8.0);
        var bits = CompressedRetrieval.CalibrateBinary(calibration);
        Add("binary_cal", CompressedRetrieval.Binary(queries, candidates, bits), dims / 8.0);
        Add("binary_cal_rescore", CompressedRetrieval.Binary(queries, candidates, bits, RescoreTop), dims / 8.0);
        Add($"binary_cal_rescore{DeepRescoreTop}", CompressedRetrieval.Binary(queries, candidates, bits, DeepRescoreTop), dims / 8.0);
        if (pca.Count >= 128)
            Add("pca128_binary_rescore", CompressedRetrieval.Binary(Cut(pq, 128), Cut(pc, 128), RescoreTop), 16);
        metrics["pca_explained_variance"] = pca.ExplainedVariance;
        return new EvalResult(TaskName, metrics);
    }
}

using System.Diagnostics;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Static;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;

namespace DistillSharp.Models.Static;

/// <summary>How a static student is built.</summary>
/// <param name="Dims">PCA width of the table (≤ the teacher's hidden size).</param>
/// <param name="SifCoefficient">a of the SIF weight a / (a + p(token)), p from Zipf's law over vocabulary rank; 0 = no weighting.</param>
/// <param name="Batch">Tokens per teacher forward pass.</param>
/// <param name="MaxLength">Tokens per text at inference (the static student has no position limit; this caps the tokenizer).</param>
public sealed record StaticBuildOptions(int Dims = 256, double SifCoefficient = 1e-4, int Batch = 1024, int MaxLength = 512);

/// <summary>A built static student: the runtime encoder and what the build learned.</summary>
/// <param name="Encoder">The int8 static encoder (what is saved and deployed).</param>
/// <param name="FloatTable">The table before int8 quantization, row-major [vocab, dims].</param>
/// <param name="Pca">The PCA fitted on the teacher's token vectors.</param>
/// <param name="Seconds">Wall time of the build (teacher passes, PCA, weighting, quantization).</param>
public sealed record StaticStudent(StaticEncoder Encoder, float[] FloatTable, PrincipalComponents Pca, double Seconds)
{
    /// <summary>
    /// Embeddings mapped back into the teacher's space: the un-normalised mean of the texts' rows y
    /// (a weighted mean of PCA coordinates) → Cᵀy + μ. Lets <c>agreement</c> compare a static
    /// student, whose PCA basis is not the teacher's, with the teacher.
    /// </summary>
    public float[][] TeacherSpaceEmbed(IReadOnlyList<string> texts)
    {
        var raw = new StaticEncoder(Encoder.Tokenizer, Encoder.Table, normalize: false, Encoder.Source);
        return raw.Embed(texts).Select(y => Pca.Reconstruct(y)).ToArray();
    }

    /// <summary>Build settings and results for static_runtime.json.</summary>
    public IReadOnlyDictionary<string, string> BuildInfo(string teacher, StaticBuildOptions options) => new Dictionary<string, string>
    {
        ["method"] = "model2vec: every vocabulary token through the teacher, PCA, SIF/Zipf weighting, int8 rows",
        ["teacher"] = teacher, ["pca_dims"] = options.Dims.ToString(), ["sif_coefficient"] = options.SifCoefficient.ToString("R"),
        ["explained_variance"] = Pca.ExplainedVariance.ToString("F4"), ["seconds"] = Seconds.ToString("F1"),
    };
}

/// <summary>
/// Builds a static (Model2Vec-style) student from a sentence-encoder teacher, after Tulkens &amp; van
/// Dongen, "Model2Vec: distill a small fast model from any Sentence Transformer" (2024):
/// (1) every vocabulary token t is run through the teacher alone, as [CLS] t [SEP], and its vector is
/// the mean of the three last-layer hidden states (the teacher's mean pooling, not normalised);
/// (2) PCA of those vectors (special and [unusedN] tokens left out) to <see cref="StaticBuildOptions.Dims"/>;
/// (3) SIF weighting with frequencies estimated by Zipf's law: the token of rank r (its position among
/// the kept tokens in vocabulary order, which WordPiece vocabularies roughly sort by frequency) gets
/// p_r = (1 / (r + 2)) / Σ_j 1 / (j + 2) and its row is scaled by a / (a + p_r);
/// (4) the table is quantized to int8 per row (<see cref="EmbeddingQuantizer"/>). Skipped tokens get zero rows.
/// </summary>
public static class StaticStudentBuilder
{
    /// <summary>Builds the student; <paramref name="log"/> gets progress lines.</summary>
    public static StaticStudent Build(SentenceEncoder teacher, StaticBuildOptions options, TextWriter? log = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        int hidden = teacher.Model.Config.HiddenSize;
        if (options.Dims < 1 || options.Dims > hidden)
            throw new DistillSharpException($"student.dims must be in [1, {hidden}] (the teacher's hidden size), got {options.Dims}");
        if (options.SifCoefficient is < 0 or >= 1)
            throw new DistillSharpException($"student.sif_coefficient must be in [0, 1), got {options.SifCoefficient}");
        var clock = Stopwatch.StartNew();
        var tokenizer = new BertTextTokenizer(teacher.Tokenizer.VocabText, teacher.Tokenizer.LowerCase, options.MaxLength, teacher.Source + " vocab.txt");
        int vocab = tokenizer.VocabSize;
        var skip = StaticEncoder.SkippedTokens(tokenizer.VocabText, vocab);
        var kept = Enumerable.Range(0, vocab).Where(id => !skip[id]).ToArray();
        var cls = teacher.Tokenizer.Encode("");                                 // [CLS] [SEP]
        log?.WriteLine($"static: {kept.Length:N0} of {vocab:N0} vocabulary tokens through the teacher, {options.Batch} per pass ...");
        var vectors = TokenVectors(teacher, kept, cls[0], cls[^1], options.Batch);
        var pca = PrincipalComponents.Fit(vectors, options.Dims);
        log?.WriteLine($"static: PCA {hidden} → {options.Dims} keeps {pca.ExplainedVariance:P1} of the variance");
        var projected = pca.ProjectAll(vectors);
        var table = new float[(long)vocab * options.Dims];
        var weights = SifWeights(kept.Length, options.SifCoefficient);
        for (int r = 0; r < kept.Length; r++)
            for (int j = 0; j < options.Dims; j++) table[(long)kept[r] * options.Dims + j] = (float)(projected[r][j] * weights[r]);
        var int8 = Int8EmbeddingTable.Quantize(new FloatTensor(table, [vocab, options.Dims]));
        var encoder = new StaticEncoder(tokenizer, int8, normalize: true, source: "static:" + teacher.Source);
        double seconds = clock.Elapsed.TotalSeconds;
        log?.WriteLine($"static: built [{vocab}, {options.Dims}] int8 table in {seconds:F1} s");
        return new StaticStudent(encoder, table, pca, seconds);
    }

    /// <summary>a / (a + p_r) for ranks r = 0 … n − 1, p_r ∝ 1 / (r + 2) (Zipf); all 1 when a = 0.</summary>
    public static double[] SifWeights(int n, double a)
    {
        var w = new double[n];
        if (a == 0) { Array.Fill(w, 1.0); return w; }
        double total = 0;
        for (int r = 0; r < n; r++) total += 1.0 / (r + 2);
        for (int r = 0; r < n; r++) w[r] = a / (a + 1.0 / (r + 2) / total);
        return w;
    }

    /// <summary>The teacher's un-normalised mean-pooled output for [CLS] id [SEP], per id.</summary>
    static float[][] TokenVectors(SentenceEncoder teacher, int[] ids, int clsId, int sepId, int batch)
    {
        var result = new float[ids.Length][];
        bool wasTraining = teacher.Model.training;
        teacher.Model.eval();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < ids.Length; start += batch)
            {
                using var scope = NewDisposeScope();
                int n = Math.Min(batch, ids.Length - start);
                var input = new long[n, 3];
                var mask = new long[n, 3];
                for (int i = 0; i < n; i++)
                {
                    (input[i, 0], input[i, 1], input[i, 2]) = (clsId, ids[start + i], sepId);
                    (mask[i, 0], mask[i, 1], mask[i, 2]) = (1, 1, 1);
                }
                var output = teacher.Forward(new TokenBatch(input, mask, new long[n, 3]));
                var pooled = SentencePooling.Pool(output.LastHiddenState, output.AttentionMask, Pooling.Mean, normalize: false).contiguous();
                var data = pooled.data<float>().ToArray();
                int h = (int)pooled.shape[1];
                for (int i = 0; i < n; i++) result[start + i] = data.AsSpan(i * h, h).ToArray();
            }
        }
        finally
        {
            teacher.Model.train(wasTraining);
        }
        return result;
    }
}

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
/// <param name="Train">Train the table on the corpus against the teacher's sentence embeddings after the build; null = the untrained build.</param>
public sealed record StaticBuildOptions(int Dims = 256, double SifCoefficient = 1e-4, int Batch = 1024, int MaxLength = 512, StaticTrainOptions? Train = null);

/// <summary>How a static table is trained on the corpus (docs/STATIC.md, "Training the table").</summary>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="Lr">Peak learning rate (AdamW, cosine decay).</param>
/// <param name="Batch">Texts per step.</param>
/// <param name="Texts">Corpus texts drawn (seeded) for training; each is embedded by the teacher once.</param>
/// <param name="Contrastive">Weight of the in-batch contrastive term beside the cosine term (0 = cosine only).</param>
public sealed record StaticTrainOptions(int Steps = 250, double Lr = 0.02, int Batch = 256, int Texts = 50_000, double Contrastive = 0);

/// <summary>What training a static table did.</summary>
/// <param name="Texts">Training texts.</param>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="LossBefore">Mean 1 − cos over the training texts before training.</param>
/// <param name="LossAfter">The same after training.</param>
/// <param name="TargetSeconds">Wall time of the teacher's embeddings of the texts (cache hits included).</param>
/// <param name="CachedTargets">Texts whose teacher embedding came from the cache.</param>
/// <param name="TrainSeconds">Wall time of the optimizer steps.</param>
public sealed record StaticTrainingSummary(int Texts, int Steps, double LossBefore, double LossAfter, double TargetSeconds, int CachedTargets, double TrainSeconds);

/// <summary>A built static student: the runtime encoder and what the build learned.</summary>
/// <param name="Encoder">The int8 static encoder (what is saved and deployed).</param>
/// <param name="FloatTable">The table before int8 quantization, row-major [vocab, dims].</param>
/// <param name="Pca">The PCA fitted on the teacher's token vectors.</param>
/// <param name="Seconds">Wall time of the build (teacher passes, PCA, weighting, training when asked, quantization).</param>
/// <param name="Training">What training did; null for the untrained build.</param>
public sealed record StaticStudent(StaticEncoder Encoder, float[] FloatTable, PrincipalComponents Pca, double Seconds, StaticTrainingSummary? Training = null)
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
    public IReadOnlyDictionary<string, string> BuildInfo(string teacher, StaticBuildOptions options)
    {
        var info = new Dictionary<string, string>
        {
            ["method"] = Training is null
                ? "model2vec: every vocabulary token through the teacher, PCA, SIF/Zipf weighting, int8 rows"
                : "model2vec + tokenlearn: token vectors in the PCA of the teacher's sentence embeddings, SIF/Zipf weighting, trained on the corpus (cosine to the teacher), int8 rows",
            ["teacher"] = teacher, ["pca_dims"] = options.Dims.ToString(), ["sif_coefficient"] = options.SifCoefficient.ToString("R"),
            ["explained_variance"] = Pca.ExplainedVariance.ToString("F4"), ["seconds"] = Seconds.ToString("F1"),
        };
        if (Training is { } t)
        {
            info["train_texts"] = t.Texts.ToString();
            info["train_steps"] = t.Steps.ToString();
            info["train_loss_before"] = t.LossBefore.ToString("F4");
            info["train_loss_after"] = t.LossAfter.ToString("F4");
        }
        return info;
    }
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
    /// <summary>Builds the untrained student; <paramref name="log"/> gets progress lines.</summary>
    public static StaticStudent Build(SentenceEncoder teacher, StaticBuildOptions options, TextWriter? log = null)
    {
        var clock = Stopwatch.StartNew();
        var tokens = TeacherTokens(teacher, options, log);
        var pca = PrincipalComponents.Fit(tokens.Vectors, options.Dims);
        log?.WriteLine($"static: PCA {tokens.Vectors[0].Length} → {options.Dims} keeps {pca.ExplainedVariance:P1} of the variance");
        var table = WeightedTable(tokens, pca.ProjectAll(tokens.Vectors), options);
        return Finish(tokens.Tokenizer, table, pca, teacher.Source, clock, log: log);
    }

    /// <summary>The vocabulary tokens the table has rows for, and the teacher's vector of each.</summary>
    /// <param name="Tokenizer">The student's tokenizer (the teacher's vocabulary, the build's max length).</param>
    /// <param name="Kept">Token ids that get a row (the rest are skipped, zero rows).</param>
    /// <param name="Vectors">Per kept id, the teacher's un-normalised mean-pooled output for [CLS] id [SEP].</param>
    public sealed record TokenVectors(BertTextTokenizer Tokenizer, int[] Kept, float[][] Vectors);

    /// <summary>
    /// Checks <paramref name="options"/> and runs every kept vocabulary token through the teacher:
    /// TorchSharp, or <paramref name="meanPooled"/> when given (another engine computing the teacher's
    /// un-normalised mean pooling of a token batch, one row per sequence).
    /// </summary>
    public static TokenVectors TeacherTokens(SentenceEncoder teacher, StaticBuildOptions options, TextWriter? log = null,
        Func<TokenBatch, float[][]>? meanPooled = null)
    {
        ArgumentNullException.ThrowIfNull(teacher);
        int hidden = teacher.Model.Config.HiddenSize;
        if (options.Dims < 1 || options.Dims > hidden)
            throw new DistillSharpException($"student.dims must be in [1, {hidden}] (the teacher's hidden size), got {options.Dims}");
        if (options.SifCoefficient is < 0 or >= 1)
            throw new DistillSharpException($"student.sif_coefficient must be in [0, 1), got {options.SifCoefficient}");
        var tokenizer = new BertTextTokenizer(teacher.Tokenizer.VocabText, teacher.Tokenizer.LowerCase, options.MaxLength, teacher.Source + " vocab.txt");
        int vocab = tokenizer.VocabSize;
        var skip = StaticEncoder.SkippedTokens(tokenizer.VocabText, vocab);
        var kept = Enumerable.Range(0, vocab).Where(id => !skip[id]).ToArray();
        var cls = teacher.Tokenizer.Encode("");                                 // [CLS] [SEP]
        log?.WriteLine($"static: {kept.Length:N0} of {vocab:N0} vocabulary tokens through the teacher, {options.Batch} per pass ...");
        return new TokenVectors(tokenizer, kept, Vectors(teacher, kept, cls[0], cls[^1], options.Batch, meanPooled));
    }

    /// <summary>The float table [vocab, dims]: kept token r's projected vector times its SIF weight, zero rows elsewhere.</summary>
    public static float[] WeightedTable(TokenVectors tokens, IReadOnlyList<float[]> projected, StaticBuildOptions options)
    {
        int dims = options.Dims;
        var table = new float[(long)tokens.Tokenizer.VocabSize * dims];
        var weights = SifWeights(tokens.Kept.Length, options.SifCoefficient);
        for (int r = 0; r < tokens.Kept.Length; r++)
            for (int j = 0; j < dims; j++) table[(long)tokens.Kept[r] * dims + j] = (float)(projected[r][j] * weights[r]);
        return table;
    }

    /// <summary>Quantizes <paramref name="table"/> to int8 rows and wraps it as the built student.</summary>
    public static StaticStudent Finish(BertTextTokenizer tokenizer, float[] table, PrincipalComponents pca, string teacherSource, Stopwatch clock,
        StaticTrainingSummary? training = null, TextWriter? log = null)
    {
        int vocab = tokenizer.VocabSize, dims = pca.Count;
        var int8 = Int8EmbeddingTable.Quantize(new FloatTensor(table, [vocab, dims]));
        var encoder = new StaticEncoder(tokenizer, int8, normalize: true, source: "static:" + teacherSource);
        double seconds = clock.Elapsed.TotalSeconds;
        log?.WriteLine($"static: built [{vocab}, {dims}] int8 table in {seconds:F1} s");
        return new StaticStudent(encoder, table, pca, seconds, training);
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
    static float[][] Vectors(SentenceEncoder teacher, int[] ids, int clsId, int sepId, int batch, Func<TokenBatch, float[][]>? meanPooled)
    {
        var result = new float[ids.Length][];
        var forward = meanPooled ?? (b => TorchMeanPooled(teacher, b));
        for (int start = 0; start < ids.Length; start += batch)
        {
            int n = Math.Min(batch, ids.Length - start);
            var input = new long[n, 3];
            var mask = new long[n, 3];
            for (int i = 0; i < n; i++)
            {
                (input[i, 0], input[i, 1], input[i, 2]) = (clsId, ids[start + i], sepId);
                (mask[i, 0], mask[i, 1], mask[i, 2]) = (1, 1, 1);
            }
            var pooled = forward(new TokenBatch(input, mask, new long[n, 3]));
            for (int i = 0; i < n; i++) result[start + i] = pooled[i];
        }
        return result;
    }

    /// <summary>The teacher's (TorchSharp, eval mode) un-normalised mean pooling of a token batch, one row per sequence.</summary>
    static float[][] TorchMeanPooled(SentenceEncoder teacher, TokenBatch batch)
    {
        bool wasTraining = teacher.Model.training;
        teacher.Model.eval();
        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            var output = teacher.Forward(batch);
            var pooled = SentencePooling.Pool(output.LastHiddenState, output.AttentionMask, Pooling.Mean, normalize: false).contiguous();
            var data = pooled.data<float>().ToArray();
            int h = (int)pooled.shape[1];
            return [.. Enumerable.Range(0, batch.Count).Select(i => data.AsSpan(i * h, h).ToArray())];
        }
        finally
        {
            teacher.Model.train(wasTraining);
        }
    }
}

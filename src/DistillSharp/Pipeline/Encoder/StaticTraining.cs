using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using DistillSharp.Data;
using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Evaluation;
using DistillSharp.Export.Encoder;
using DistillSharp.Models;
using DistillSharp.Models.Encoder;
using DistillSharp.Models.Static;
using DistillSharp.Runtime;
using DistillSharp.Runtime.Static;
using Google.Protobuf;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// The trained static build (<c>student.train</c>, docs/STATIC.md "Training the table"): the teacher's
/// sentence embeddings of a seeded sample of the distillation corpus (through the run's evaluation
/// engine, cached on disk per text), a PCA fitted on them (so the table's space is centred on
/// sentences, not on vocabulary tokens), the table initialised with the teacher's normalised token
/// vectors in that space (SIF-weighted as in the untrained build), then trained by
/// <see cref="StaticTableObjective"/> under the shared <see cref="Trainer"/>, and quantized to int8 rows.
/// </summary>
public static class StaticTraining
{
    /// <summary>Folder of the teacher-embedding cache of static training, under the teacher-output cache root.</summary>
    public const string CacheFolder = "static-targets";

    /// <summary>
    /// Builds the trained student. <paramref name="teacherEmbed"/> gives the teacher's sentence embeddings;
    /// <paramref name="teacherKey"/> names them in the cache (null = no cache).
    /// </summary>
    public static StaticStudent Build(SentenceEncoder teacher, StaticBuildOptions options, IReadOnlyList<string> corpus, EvalData eval,
        Func<IReadOnlyList<string>, float[][]> teacherEmbed, string? teacherKey, ulong seed, TextWriter log)
    {
        var train = options.Train ?? throw new ArgumentException("options.Train is null: use StaticStudentBuilder.Build");
        var clock = Stopwatch.StartNew();
        StaticStudentBuilder.TokenVectors tokens;
        // The vocabulary pass on ONNX Runtime too (the evaluation engine's graph; equal to TorchSharp within float rounding, faster).
        using (var ort = new OnnxRuntimeEncoder(OnnxExporter.BuildFp32(teacher.Model, new OnnxExportOptions(Pooling: teacher.Pooling, Normalize: teacher.Normalize)).ToByteArray(),
            threads: TorchSharp.torch.get_num_threads()))
            tokens = StaticStudentBuilder.TeacherTokens(teacher, options, log, batch => MeanPooled(ort, batch));
        var texts = TrainingTexts(corpus, eval, train.Texts, seed, log);
        var targetClock = Stopwatch.StartNew();
        var (embeddings, cached) = TeacherTargets(texts, teacherEmbed, teacherKey, log);
        double targetSeconds = targetClock.Elapsed.TotalSeconds;
        log.WriteLine($"static: teacher embeddings of {texts.Count:N0} training texts in {targetSeconds:F1} s ({cached:N0} from the cache)");

        var pca = PrincipalComponents.Fit(embeddings, options.Dims);
        log.WriteLine($"static: PCA of the sentence embeddings {embeddings[0].Length} → {options.Dims} keeps {pca.ExplainedVariance:P1} of the variance");
        var targets = pca.ProjectAll(embeddings);
        var init = StaticStudentBuilder.WeightedTable(tokens, pca.ProjectAll(tokens.Vectors.Select(Normalized).ToList()), options);

        var tokenizer = tokens.Tokenizer;
        var ids = texts.Select(t => tokenizer.Encode(t).ToArray()).ToList();
        var skip = StaticEncoder.SkippedTokens(tokenizer.VocabText, tokenizer.VocabSize);
        using var table = new StaticTable(init, tokenizer.VocabSize, options.Dims);
        var objective = new StaticTableObjective(table, ids, targets, skip, train.Batch, seed, train.Contrastive);
        double before = StaticTableObjective.MeanLoss(table, ids, targets, skip);
        var trainClock = Stopwatch.StartNew();
        var result = objective.Train(train.Steps, train.Lr, p =>
        {
            if (p.GlobalStep % Math.Max(1, train.Steps / 5) == 0) log.WriteLine($"static: step {p.GlobalStep}/{p.TotalSteps} loss {p.Loss:F4}");
        });
        double trainSeconds = trainClock.Elapsed.TotalSeconds;
        double after = StaticTableObjective.MeanLoss(table, ids, targets, skip);
        log.WriteLine($"static: {result.GlobalStep} steps in {trainSeconds:F1} s; 1 − cos over the training texts {before:F4} → {after:F4}");
        var summary = new StaticTrainingSummary(texts.Count, (int)result.GlobalStep, before, after, targetSeconds, cached, trainSeconds);
        return StaticStudentBuilder.Finish(tokenizer, table.Rows(), pca, teacher.Source, clock, summary, log);
    }

    /// <summary>
    /// A seeded sample of <paramref name="count"/> corpus texts (all when fewer), never an evaluation text:
    /// the corpus is built from the training side, and any text equal to a held-out WordNet or mail text is dropped again here.
    /// </summary>
    public static IReadOnlyList<string> TrainingTexts(IReadOnlyList<string> corpus, EvalData eval, int count, ulong seed, TextWriter? log = null)
    {
        var heldOut = DistillationCorpus.HeldOutKeys(eval.WordNet, eval.Mails, new CorpusOptions());
        var eligible = corpus.Distinct(StringComparer.Ordinal).Where(t => t.Length > 0 && !heldOut.Contains(DataSplits.Key(t))).ToList();
        if (eligible.Count == 0) throw new DistillSharpException("student.train: the corpus has no text to train the static table on");
        int dropped = corpus.Count - eligible.Count;
        if (dropped > 0) log?.WriteLine($"static: {dropped:N0} corpus texts left out (duplicates or equal to an evaluation text)");
        return new SplitMix64(seed).Shuffled(eligible).Take(count).ToList();
    }

    /// <summary>The teacher's embedding of every text, from the cache where present; also how many were cached.</summary>
    public static (float[][] Embeddings, int Cached) TeacherTargets(IReadOnlyList<string> texts, Func<IReadOnlyList<string>, float[][]> embed,
        string? teacherKey, TextWriter? log = null)
    {
        using var store = teacherKey is null ? null : Open(teacherKey, log);
        var result = new float[texts.Count][];
        var missing = new List<int>();
        for (int i = 0; i < texts.Count; i++)
        {
            if (store?.Read(Key(texts[i])) is { } bytes) result[i] = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            else missing.Add(i);
        }
        if (missing.Count > 0)
        {
            var computed = embed(missing.Select(i => texts[i]).ToList());
            for (int j = 0; j < missing.Count; j++)
            {
                result[missing[j]] = computed[j];
                store?.Append(Key(texts[missing[j]]), MemoryMarshal.AsBytes(computed[j].AsSpan()).ToArray());
            }
        }
        return (result, texts.Count - missing.Count);
    }

    static RecordStore? Open(string teacherKey, TextWriter? log)
    {
        string dir = Path.Combine(CachePaths.TeacherCache, CacheFolder, teacherKey);
        byte[] settings = Encoding.UTF8.GetBytes($"distillsharp-static-targets-v1 teacher={teacherKey}");
        try
        {
            var store = new RecordStore(dir, settings);
            if (store.StoredSettings.AsSpan().SequenceEqual(settings)) return store;
            store.Dispose();
        }
        catch (Exception e) when (e is IOException or DistillSharpException)
        {
            log?.WriteLine($"static: teacher-embedding cache {dir}: {e.Message}; computing without it");
        }
        return null;
    }

    /// <summary>The un-normalised mean over each sequence's unmasked tokens of ONNX Runtime's last hidden state.</summary>
    public static float[][] MeanPooled(OnnxRuntimeEncoder ort, Runtime.Tokenization.TokenBatch batch)
    {
        var (hidden, shape, _) = ort.Run(batch);                                               // (B, T, H)
        int t = shape[1], h = shape[2];
        var result = new float[batch.Count][];
        for (int b = 0; b < batch.Count; b++)
        {
            var sum = new double[h];
            int count = 0;
            for (int i = 0; i < t; i++)
            {
                if (batch.AttentionMask[b, i] == 0) continue;
                count++;
                var row = hidden.AsSpan((b * t + i) * h, h);
                for (int j = 0; j < h; j++) sum[j] += row[j];
            }
            result[b] = sum.Select(x => (float)(x / Math.Max(count, 1))).ToArray();
        }
        return result;
    }

    static long Key(string text) => BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0);

    static float[] Normalized(float[] v)
    {
        double norm = Math.Sqrt(v.Sum(x => (double)x * x));
        return norm > 0 ? v.Select(x => (float)(x / norm)).ToArray() : v;
    }
}

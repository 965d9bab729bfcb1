using DistillSharp.Distillation;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Models.Encoder;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// What an evaluation result depends on besides the task and the data: the model's weights
/// (<see cref="TeacherCache.WeightsIdentity"/>), the engine that computes its embeddings, and its
/// tokenizer and pooling.
/// </summary>
/// <param name="Weights">Content hash of the weights.</param>
/// <param name="Runtime">The engine that embeds (<c>onnxruntime-fp32</c>, <c>torchsharp-fp32</c>): engines agree to ~1e-6, not bitwise.</param>
/// <param name="Encoder">Tokenizer, pooling and normalisation come from here.</param>
public sealed record EvalSubject(string Weights, string Runtime, SentenceEncoder Encoder)
{
    /// <summary>The subject of <paramref name="encoder"/> evaluated by <paramref name="runtime"/>.</summary>
    public static EvalSubject Of(SentenceEncoder encoder, string runtime) => new(TeacherCache.WeightsIdentity(encoder.Model), runtime, encoder);

    /// <summary>A content key of every part (<see cref="ContentKey"/>).</summary>
    public string Key()
    {
        var t = Encoder.Tokenizer;
        using var key = new ContentKey("distillsharp-eval-subject-v1");
        return key.Add(Weights).Add(Runtime).Add(t.VocabText).Add($"lower={t.LowerCase} max_len={t.MaxLength}")
            .Add($"pooling={Encoder.Pooling} normalize={Encoder.Normalize}").Key();
    }
}

/// <summary>Which cache a variant's evaluation uses: its subject's key and, for tasks that compare with it, the teacher's.</summary>
public sealed record EvalCaching(EvalCache Cache, string Subject, string? Teacher);

/// <summary>
/// Evaluation results of an unchanged model on unchanged data, kept on disk so a frozen teacher (and
/// the untrained baseline) is evaluated once per machine, not once per run. One entry per (subject,
/// task): a folder named by a <see cref="ContentKey"/> over <see cref="Scheme"/>, the subject, the
/// task name and options, the data's content hash (with the held-out domain's speeches for its task)
/// and — for tasks that compare with a teacher — the teacher's subject, holding a <see cref="RecordStore"/> (flushed record before its index entry,
/// SHA-256-checked on read) with the metrics as exact doubles; so a hit is bit-identical to the
/// recomputation, and a torn, corrupt or unreadable entry is recomputed and rewritten, never trusted.
/// </summary>
public sealed class EvalCache(string root)
{
    /// <summary>
    /// The key scheme and the metric code's version: bump it when any task's computation changes, so
    /// results of the old code are not read.
    /// </summary>
    public const string Scheme = "distillsharp-eval-results-v1";

    static readonly byte[] Settings = "evaluation-result metrics=name:float64"u8.ToArray();

    /// <summary>The cache folder.</summary>
    public string Root { get; } = root;

    /// <summary>The key of one task's result.</summary>
    public static string Key(string subjectKey, string task, EvalContext context, string? teacherKey)
    {
        using var key = new ContentKey(Scheme);
        key.Add(subjectKey).Add(task).Add($"batch={context.BatchSize} max_mail_chars={context.MaxMailChars}").Add(context.Data.ContentHash);
        // A held-out domain's task reads its own data set as well.
        if (EvalRegistry.HeldOutSources.ContainsKey(task)) key.Add(context.Data.SpeechesHash);
        return key.Add(teacherKey ?? "no-teacher").Key();
    }

    /// <summary>
    /// The result under <paramref name="key"/> from disk (<paramref name="hit"/> true), or
    /// <paramref name="compute"/>d and stored. An entry that cannot be opened or read is recomputed.
    /// </summary>
    public IReadOnlyDictionary<string, double> GetOrCompute(string key, Func<IReadOnlyDictionary<string, double>> compute, TextWriter? log, out bool hit) =>
        GetOrCompute(key, Settings, compute, Encode, Decode, log, out hit);

    /// <summary>
    /// Any result under <paramref name="key"/>, stored as <paramref name="encode"/> writes it in an entry
    /// whose header holds <paramref name="settings"/> (the record format: an entry of another format is
    /// rebuilt); a record <paramref name="decode"/> returns null for is recomputed and rewritten.
    /// </summary>
    public T GetOrCompute<T>(string key, byte[] settings, Func<T> compute, Func<T, byte[]> encode, Func<byte[], T?> decode, TextWriter? log, out bool hit)
        where T : class
    {
        string dir = Path.Combine(Root, key);
        using var store = Open(dir, settings, log);
        if (store?.Read(0) is { } bytes && decode(bytes) is { } cached)
        {
            hit = true;
            return cached;
        }
        hit = false;
        var result = compute();
        store?.Append(0, encode(result));
        return result;
    }

    static RecordStore? Open(string dir, byte[] settings, TextWriter? log)
    {
        try
        {
            var store = new RecordStore(dir, settings);
            if (store.StoredSettings.AsSpan().SequenceEqual(settings)) return store;
            store.Dispose();
        }
        catch (DistillSharpException)
        {
            // A bad index header: the entry is rebuilt below.
        }
        catch (IOException e)
        {
            log?.WriteLine($"evaluation cache {dir}: {e.Message}; computing without it");
            return null;
        }
        log?.WriteLine($"evaluation cache {dir}: unreadable entry, recomputing");
        Directory.Delete(dir, recursive: true);
        return new RecordStore(dir, settings);
    }

    static byte[] Encode(IReadOnlyDictionary<string, double> metrics)
    {
        using var buffer = new MemoryStream();
        using (var w = new BinaryWriter(buffer))
        {
            w.Write(metrics.Count);
            foreach (var (name, value) in metrics)
            {
                w.Write(name);
                w.Write(value);
            }
        }
        return buffer.ToArray();
    }

    // Null when the record does not parse as metrics (then it is recomputed).
    static Dictionary<string, double>? Decode(byte[] bytes)
    {
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes));
            int count = r.ReadInt32();
            if (count < 0 || count > 1024) return null;
            var metrics = new Dictionary<string, double>(count);
            for (int i = 0; i < count; i++) metrics[r.ReadString()] = r.ReadDouble();
            return r.BaseStream.Position == bytes.Length ? metrics : null;
        }
        catch (EndOfStreamException)
        {
            return null;
        }
    }
}

using DistillSharp.Data;
using DistillSharp.Evaluation;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Pipeline.Encoder;
using DistillSharp.Reports.Encoder;
using DistillSharp.Tests.Data;
using static TorchSharp.torch;

namespace DistillSharp.Tests.Pipeline;

/// <summary>
/// The evaluation cache: a hit is bit-identical to a recomputation (also in report.json), a changed
/// weight, data set or task option misses, and a torn or corrupt entry is recomputed.
/// </summary>
public sealed class EvalCacheTests : IDisposable
{
    static readonly string[] Tasks = ["wordnet-retrieval", "spam-f1", "agreement"];
    readonly string _root = Directory.CreateTempSubdirectory("evalcache-").FullName;
    readonly SentenceEncoder _teacher = TinyModels.Encoder(seed: 1), _student = TinyModels.Encoder(seed: 2);
    readonly EvalData _data = Data(ham: 24, spam: 12);
    int _embedCalls;

    public void Dispose()
    {
        _teacher.Dispose();
        _student.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    static EvalData Data(int ham, int spam)
    {
        var db = SyntheticData.WordNet(20);
        var mails = SyntheticData.Mails(ham, spam);
        return new EvalData(() => db, () => mails, evaluationSynsets: 8);
    }

    float[][] Embed(SentenceEncoder e, IReadOnlyList<string> texts)
    {
        _embedCalls++;
        return e.Embed(texts);
    }

    (Dictionary<string, IReadOnlyDictionary<string, double>> Quality, List<string> Cached) Run(SentenceEncoder student, EvalData data, bool cache = true)
    {
        var cached = new List<string>();
        var caching = new EvalCaching(new EvalCache(_root), EvalSubject.Of(student, "torchsharp-fp32").Key(), EvalSubject.Of(_teacher, "torchsharp-fp32").Key());
        var quality = VariantMeasurer.Quality(t => Embed(student, t), Tasks, data, t => Embed(_teacher, t), TextWriter.Null, cache ? caching : null, cached);
        return (quality, cached);
    }

    static void AssertBitIdentical(IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> a, IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> b)
    {
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (task, metrics) in a)
        {
            Assert.Equal(metrics.Keys.Order(), b[task].Keys.Order());
            foreach (var (name, value) in metrics) Assert.Equal(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(b[task][name]));
        }
    }

    static string ReportJson(IReadOnlyDictionary<string, IReadOnlyDictionary<string, double>> quality)
    {
        var variants = new Dictionary<string, VariantMeasurement> { ["student"] = new(1, null, quality, null, null, "torchsharp-fp32") };
        var report = RunReportBuilder.Build("test", variants, null, 1, []);
        return RunReportJson.Serialize(report with { Run = null, Targets = null });
    }

    [Fact]
    public void ACacheHitIsBitIdenticalToRecomputingInReportJsonToo()
    {
        var (cold, coldCached) = Run(_student, _data);
        int calls = _embedCalls;
        var (warm, warmCached) = Run(_student, _data);
        Assert.Empty(coldCached);
        Assert.Equal(["wordnet_retrieval", "spam_f1", "agreement"], warmCached);
        Assert.Equal(calls, _embedCalls); // nothing embedded: every task came from disk
        var (recomputed, _) = Run(_student, _data, cache: false);
        Assert.True(_embedCalls > calls);
        AssertBitIdentical(recomputed, warm);
        AssertBitIdentical(recomputed, cold);
        Assert.Equal(ReportJson(recomputed), ReportJson(warm));
    }

    [Fact]
    public void AChangedWeightDataSetOrTaskOptionMisses()
    {
        Run(_student, _data);
        Assert.Equal(3, Run(_student, _data).Cached.Count);
        // One weight moves: every task of that model misses.
        using (no_grad()) _student.Model.named_parameters().First(p => p.name.EndsWith("word_embeddings.weight")).parameter[5, 3].add_(1e-3f);
        Assert.Empty(Run(_student, _data).Cached);
        // Different data: one more ham mail.
        Assert.Empty(Run(_student, Data(ham: 25, spam: 12)).Cached);
        // A task option (the batch size texts are embedded in) changes the key.
        var context = new EvalContext(_ => [], _data);
        string subject = EvalSubject.Of(_student, "torchsharp-fp32").Key();
        Assert.NotEqual(EvalCache.Key(subject, "spam-f1", context, null), EvalCache.Key(subject, "spam-f1", context with { BatchSize = 32 }, null));
        Assert.NotEqual(EvalCache.Key(subject, "spam-f1", context, null), EvalCache.Key(subject, "spam-f1", context with { MaxMailChars = 500 }, null));
        // The engine and the teacher an agreement is measured against are part of the key too.
        Assert.NotEqual(subject, EvalSubject.Of(_student, "onnxruntime-fp32").Key());
        Assert.NotEqual(EvalCache.Key(subject, "agreement", context, "a"), EvalCache.Key(subject, "agreement", context, "b"));
    }

    [Fact]
    public void ACorruptOrTornEntryIsRecomputedNotTrusted()
    {
        var (first, _) = Run(_student, _data);
        var entries = Directory.GetDirectories(_root);
        Assert.Equal(3, entries.Length);
        // Flip a byte of one record, cut another's data file, overwrite the third's index header.
        var data0 = Path.Combine(entries[0], "data.bin");
        var bytes = File.ReadAllBytes(data0);
        bytes[^1] ^= 0x40;
        File.WriteAllBytes(data0, bytes);
        using (var f = new FileStream(Path.Combine(entries[1], "data.bin"), FileMode.Open)) f.SetLength(f.Length - 3);
        File.WriteAllBytes(Path.Combine(entries[2], "index.bin"), "garbage!"u8.ToArray());
        int calls = _embedCalls;
        var (again, cached) = Run(_student, _data);
        Assert.Empty(cached);
        Assert.True(_embedCalls > calls);
        AssertBitIdentical(first, again);
        Assert.Equal(3, Run(_student, _data).Cached.Count); // rewritten: hits again
    }

    [Fact]
    public void TheInMemoryOnnxEngineComputesWhatTheExportedFileDoes()
    {
        // The student's ONNX Runtime row shares the student's cache entry: both must be the same graph.
        string path = Path.Combine(_root, "student.onnx");
        OnnxExporter.ExportFp32(_student, path);
        using var file = new OnnxRuntimeEncoder(path, threads: 1);
        using var memory = EvalEngines.Create("onnxruntime-fp32", _student, threads: 1);
        var texts = new[] { "the cat sat on the mat", "a dog ran", "big red house and a tree", "fish" };
        var a = file.Embed(texts, _student.Tokenizer, _student.Pooling, _student.Normalize);
        var b = memory.Embed(texts);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(a[i], b[i]);
        var torch = _student.Embed(texts);
        for (int i = 0; i < texts.Length; i++)
            Assert.True(a[i].Zip(torch[i], (x, y) => Math.Abs(x - y)).Max() < 1e-5, $"text {i}: ONNX Runtime and TorchSharp differ by more than 1e-5");
    }

    [Fact]
    public void AWrittenModelsKeyFollowsItsBytesAndFileNames()
    {
        // The INT8 and INT8-ONNX rows are keyed by the files the run wrote (ContentKey.OfFiles).
        string a = Path.Combine(_root, "a"), b = Path.Combine(_root, "b");
        Directory.CreateDirectory(a);
        File.WriteAllBytes(Path.Combine(a, "config.json"), "{\"x\": 1}"u8.ToArray());
        File.WriteAllBytes(Path.Combine(a, "weights.bin"), Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray());
        CopyFolder(a, b);
        string key = ContentKey.OfFiles(a);
        Assert.Equal(key, ContentKey.OfFiles(b));
        var bytes = File.ReadAllBytes(Path.Combine(b, "weights.bin"));
        bytes[2999] ^= 1;
        File.WriteAllBytes(Path.Combine(b, "weights.bin"), bytes);
        Assert.NotEqual(key, ContentKey.OfFiles(b));
        // Moving bytes from one file to the next (same concatenation) or renaming a file changes the key too.
        string c = Path.Combine(_root, "c");
        CopyFolder(a, c);
        File.WriteAllBytes(Path.Combine(c, "config.json"), "{\"x\": 1}\0"u8.ToArray());
        File.WriteAllBytes(Path.Combine(c, "weights.bin"), Enumerable.Range(0, 3000).Select(i => (byte)i).Skip(1).ToArray());
        Assert.NotEqual(key, ContentKey.OfFiles(c));
        File.Move(Path.Combine(a, "weights.bin"), Path.Combine(a, "weights2.bin"));
        Assert.NotEqual(key, ContentKey.OfFiles(a));
        // A single file is keyed by its name and bytes alike.
        Assert.Equal(ContentKey.OfFiles(Path.Combine(a, "config.json")), ContentKey.OfFiles(Path.Combine(b, "config.json")));
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}

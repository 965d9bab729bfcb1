using System.Security.Cryptography;
using System.Text;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Data.Encoder;

namespace DistillSharp.Distillation.Encoder;

/// <summary>
/// Teacher outputs on disk, per training example, as fp16 — only what the active loss terms need.
/// The folder name is a SHA-256 over everything the outputs depend on (teacher weights, corpus,
/// tokenizer vocabulary and casing, max length, the needed outputs), so any change to any input
/// lands in a new folder and stale data is never read.
/// Layout: <c>data.bin</c> holds records appended in the order examples were first seen;
/// <c>index.bin</c> holds (example id, offset, length) triples, appended after the record is
/// flushed — a record counts only once its index entry is complete, so a kill leaves a valid cache.
/// Record: int32 T (real tokens), then per needed output, in a fixed order, fp16 values:
/// pooled (H), hidden[l] (T·H), attention[l] (h·T·T), query/key/value[l] (h·T·d).
/// </summary>
public sealed class TeacherCache : IDisposable
{
    readonly TeacherNeeds _needs;
    readonly int _layers, _hidden, _heads, _headDim;
    readonly FileStream _data;
    readonly FileStream _index;
    readonly Dictionary<int, (long Offset, int Length)> _entries = new();

    /// <summary>The cache folder.</summary>
    public string Directory { get; }
    /// <summary>Lookups served from disk.</summary>
    public long Hits { get; private set; }
    /// <summary>Examples computed by the teacher and stored.</summary>
    public long Misses { get; private set; }
    /// <summary>Bytes of teacher outputs on disk.</summary>
    public long Bytes => _data.Length;

    public TeacherCache(string root, string key, TeacherNeeds needs, int layers, int hidden, int heads)
    {
        _needs = needs;
        _layers = layers;
        _hidden = hidden;
        _heads = heads;
        _headDim = hidden / heads;
        Directory = Path.Combine(root, key);
        System.IO.Directory.CreateDirectory(Directory);
        _data = new FileStream(Path.Combine(Directory, "data.bin"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _index = new FileStream(Path.Combine(Directory, "index.bin"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        LoadIndex();
    }

    /// <summary>The content key of a cache: teacher identity, corpus, tokenizer and needs.</summary>
    public static string Key(string teacherIdentity, IReadOnlyList<string> corpus, BertTextTokenizer tokenizer, TeacherNeeds needs)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string s) { sha.AppendData(Encoding.UTF8.GetBytes(s)); sha.AppendData([0]); }
        Add("distillsharp-teacher-cache-v1");
        Add(teacherIdentity);
        Add(tokenizer.VocabText);
        Add(tokenizer.LowerCase.ToString());
        Add(tokenizer.MaxLength.ToString());
        Add(needs.ToString());
        Add(corpus.Count.ToString());
        foreach (string text in corpus) Add(text);
        return Convert.ToHexString(sha.GetHashAndReset())[..24].ToLowerInvariant();
    }

    /// <summary>A content hash of a model's weights (its teacher identity).</summary>
    public static string WeightsIdentity(nn.Module model)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, t) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(name));
            using var c = t.contiguous();
            sha.AppendData(c.bytes);
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    /// <summary>
    /// The teacher's outputs for a batch: from disk when every example is cached, else computed
    /// with <paramref name="teacher"/> and stored. Tensors are padded to the batch length with zeros
    /// (losses mask padding out).
    /// </summary>
    public ModelOutput Get(IndexedBatch batch, Tensor attentionMask, Func<ModelOutput> teacher)
    {
        if (batch.ExampleIds.All(_entries.ContainsKey))
        {
            Hits += batch.ExampleIds.Length;
            return Assemble(batch, attentionMask);
        }
        var output = teacher();
        Store(batch, output);
        Misses += batch.ExampleIds.Length;
        return output;
    }

    void Store(IndexedBatch batch, ModelOutput output)
    {
        int t = batch.Tokens.Length;
        var parts = Parts(output);
        var arrays = parts.Select(p => p.Tensor.contiguous().to_type(ScalarType.Float16).cpu().data<Half>().ToArray()).ToList();
        for (int b = 0; b < batch.ExampleIds.Length; b++)
        {
            if (_entries.ContainsKey(batch.ExampleIds[b])) continue;
            int len = 0;
            for (int i = 0; i < t; i++) len += (int)batch.Tokens.AttentionMask[b, i];
            using var record = new MemoryStream();
            using var w = new BinaryWriter(record);
            w.Write(len);
            for (int p = 0; p < parts.Count; p++) WriteSlice(w, arrays[p], parts[p].Kind, b, t, len);
            w.Flush();
            long offset = _data.Length;
            _data.Seek(0, SeekOrigin.End);
            record.Position = 0;
            record.CopyTo(_data);
            _data.Flush();
            int length = (int)record.Length;
            _index.Seek(0, SeekOrigin.End);
            var entry = new byte[16];
            BitConverter.TryWriteBytes(entry, batch.ExampleIds[b]);
            BitConverter.TryWriteBytes(entry.AsSpan(4), offset);
            BitConverter.TryWriteBytes(entry.AsSpan(12), length);
            _index.Write(entry);
            _index.Flush();
            _entries[batch.ExampleIds[b]] = (offset, length);
        }
    }

    enum Kind { Pooled, Hidden, Attention, Heads }

    List<(Kind Kind, Tensor Tensor, int Layer)> Parts(ModelOutput o)
    {
        var parts = new List<(Kind, Tensor, int)>();
        if (_needs.Pooled) parts.Add((Kind.Pooled, o.Pooled ?? throw new InvalidOperationException("teacher output has no pooled embedding"), -1));
        foreach (int l in _needs.HiddenStates) parts.Add((Kind.Hidden, o.HiddenStates[l], l));
        foreach (int l in _needs.Attentions) parts.Add((Kind.Attention, o.Attentions[l], l));
        foreach (int l in _needs.Queries) parts.Add((Kind.Heads, o.Queries![l], l));
        foreach (int l in _needs.Keys) parts.Add((Kind.Heads, o.Keys![l], l));
        foreach (int l in _needs.Values) parts.Add((Kind.Heads, o.Values![l], l));
        return parts;
    }

    void WriteSlice(BinaryWriter w, Half[] a, Kind kind, int b, int t, int len)
    {
        switch (kind)
        {
            case Kind.Pooled:
                for (int j = 0; j < _hidden; j++) w.Write(a[b * _hidden + j]);
                break;
            case Kind.Hidden: // (B, T, H)
                for (int i = 0; i < len; i++)
                    for (int j = 0; j < _hidden; j++) w.Write(a[(b * t + i) * _hidden + j]);
                break;
            case Kind.Attention: // (B, h, T, T)
                for (int h = 0; h < _heads; h++)
                    for (int i = 0; i < len; i++)
                        for (int j = 0; j < len; j++) w.Write(a[((b * _heads + h) * t + i) * t + j]);
                break;
            case Kind.Heads: // (B, h, T, d)
                for (int h = 0; h < _heads; h++)
                    for (int i = 0; i < len; i++)
                        for (int j = 0; j < _headDim; j++) w.Write(a[((b * _heads + h) * t + i) * _headDim + j]);
                break;
        }
    }

    ModelOutput Assemble(IndexedBatch batch, Tensor attentionMask)
    {
        int n = batch.ExampleIds.Length, t = batch.Tokens.Length;
        var pooled = _needs.Pooled ? new float[n * _hidden] : null;
        var hidden = _needs.HiddenStates.ToDictionary(l => l, _ => new float[n * t * _hidden]);
        var attn = _needs.Attentions.ToDictionary(l => l, _ => new float[n * _heads * t * t]);
        float[] NewHeads() => new float[n * _heads * t * _headDim];
        var q = _needs.Queries.ToDictionary(l => l, _ => NewHeads());
        var k = _needs.Keys.ToDictionary(l => l, _ => NewHeads());
        var v = _needs.Values.ToDictionary(l => l, _ => NewHeads());
        for (int b = 0; b < n; b++)
        {
            var (offset, length) = _entries[batch.ExampleIds[b]];
            var bytes = new byte[length];
            _data.Seek(offset, SeekOrigin.Begin);
            _data.ReadExactly(bytes);
            using var r = new BinaryReader(new MemoryStream(bytes));
            int len = r.ReadInt32();
            if (pooled != null) for (int j = 0; j < _hidden; j++) pooled[b * _hidden + j] = (float)r.ReadHalf();
            foreach (var a in hidden.Values)
                for (int i = 0; i < len; i++)
                    for (int j = 0; j < _hidden; j++) a[(b * t + i) * _hidden + j] = (float)r.ReadHalf();
            foreach (var a in attn.Values)
                for (int h = 0; h < _heads; h++)
                    for (int i = 0; i < len; i++)
                        for (int j = 0; j < len; j++) a[((b * _heads + h) * t + i) * t + j] = (float)r.ReadHalf();
            foreach (var a in q.Values.Concat(k.Values).Concat(v.Values))
                for (int h = 0; h < _heads; h++)
                    for (int i = 0; i < len; i++)
                        for (int j = 0; j < _headDim; j++) a[((b * _heads + h) * t + i) * _headDim + j] = (float)r.ReadHalf();
        }
        // Layers no term needs are empty placeholders, so that indices (and negative ones) keep their meaning.
        int maxHidden = _layers + 1, maxLayer = _layers;
        Tensor Make(float[]? a, params long[] shape) => a is null ? empty(0) : tensor(a, shape);
        IReadOnlyList<Tensor>? Heads(Dictionary<int, float[]> d, int count) => d.Count == 0 ? null
            : Enumerable.Range(0, count).Select(l => Make(d.GetValueOrDefault(l), n, _heads, t, _headDim)).ToList();
        return new ModelOutput
        {
            HiddenStates = Enumerable.Range(0, maxHidden).Select(l => Make(hidden.GetValueOrDefault(l), n, t, _hidden)).ToList(),
            Attentions = Enumerable.Range(0, maxLayer).Select(l => Make(attn.GetValueOrDefault(l), n, _heads, t, t)).ToList(),
            Queries = Heads(q, maxLayer), Keys = Heads(k, maxLayer), Values = Heads(v, maxLayer),
            AttentionMask = attentionMask,
            Pooled = pooled is null ? null : tensor(pooled, n, _hidden),
        };
    }

    void LoadIndex()
    {
        long dataLength = _data.Length;
        var bytes = new byte[_index.Length / 16 * 16]; // a torn last entry is ignored
        _index.Seek(0, SeekOrigin.Begin);
        _index.ReadExactly(bytes);
        for (int i = 0; i < bytes.Length; i += 16)
        {
            int id = BitConverter.ToInt32(bytes, i);
            long offset = BitConverter.ToInt64(bytes, i + 4);
            int length = BitConverter.ToInt32(bytes, i + 12);
            if (offset >= 0 && length > 0 && offset + length <= dataLength) _entries[id] = (offset, length);
        }
        _index.SetLength(bytes.Length);
    }

    public void Dispose()
    {
        _data.Dispose();
        _index.Dispose();
    }
}

using System.Text;
using DistillSharp.Distillation.Encoder.Losses;
using DistillSharp.Models;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Data.Encoder;

namespace DistillSharp.Distillation.Encoder;

/// <summary>
/// Teacher outputs on disk, per training example, as fp16 — only what the active loss terms need —
/// in a <see cref="RecordStore"/> (append-only, checksummed; a torn or corrupt record is recomputed).
/// The folder name is a SHA-256 over everything the outputs depend on (teacher weights, corpus,
/// tokenizer vocabulary and casing, max length, the needed outputs), so any change to any input
/// lands in a new folder and stale data is never read. A miss is computed, stored and returned in
/// its stored (fp16) form, so a run trains on the same numbers whether the cache was cold or warm.
/// Record: int32 T (real tokens), then per needed output, in a fixed order: pooled (H, fp16),
/// logits (C, fp32 — a classifier's C values per example are few, and KD's tempered softmax reads them
/// exactly), hidden[l] (T·H), attention[l] (h·T·T), query/key/value[l] (h·T·d), all fp16.
/// </summary>
public sealed class TeacherCache : IDisposable
{
    readonly TeacherNeeds _needs;
    readonly int _layers, _hidden, _heads, _headDim, _classes;
    readonly RecordStore _store;

    /// <summary>The cache folder.</summary>
    public string Directory => _store.Directory;
    /// <summary>Examples served from disk.</summary>
    public long Hits { get; private set; }
    /// <summary>Examples computed by the teacher and stored.</summary>
    public long Misses { get; private set; }
    /// <summary>Bytes of teacher outputs on disk.</summary>
    public long Bytes => _store.Bytes;
    /// <summary>Records found torn or corrupt (and recomputed).</summary>
    public long Dropped => _store.Dropped;

    /// <summary>
    /// Opens (or creates) the cache <paramref name="key"/> under <paramref name="root"/> for a teacher of
    /// <paramref name="layers"/> × <paramref name="hidden"/> with <paramref name="heads"/> heads, and
    /// <paramref name="classes"/> logits per example when <paramref name="needs"/> asks for logits.
    /// </summary>
    public TeacherCache(string root, string key, TeacherNeeds needs, int layers, int hidden, int heads, int classes = 0)
    {
        if (needs.Logits && classes <= 0)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "a cache of teacher logits needs the number of classes");
        _needs = needs;
        _classes = needs.Logits ? classes : 0;
        _layers = layers;
        _hidden = hidden;
        _heads = heads;
        _headDim = hidden / heads;
        byte[] settings = Encoding.UTF8.GetBytes($"encoder-teacher-outputs fp16 layers={layers} hidden={hidden} heads={heads} needs={needs}" +
            (needs.Logits ? $" logits={classes} fp32" : ""));
        _store = new RecordStore(Path.Combine(root, key), settings);
        if (!_store.StoredSettings.AsSpan().SequenceEqual(settings))
        {
            _store.Dispose();
            throw new DistillSharpException($"{Path.Combine(root, key)} holds teacher outputs written as '{RecordStore.Describe(_store.StoredSettings)}', " +
                $"not '{RecordStore.Describe(settings)}'; delete the folder");
        }
    }

    /// <summary>The content key of a cache: teacher identity, corpus, tokenizer and needs.</summary>
    public static string Key(string teacherIdentity, IReadOnlyList<string> corpus, BertTextTokenizer tokenizer, TeacherNeeds needs)
    {
        using var key = new ContentKey("distillsharp-teacher-cache-v2");
        key.Add(teacherIdentity).Add(tokenizer.VocabText).Add(tokenizer.LowerCase.ToString()).Add(tokenizer.MaxLength.ToString())
            .Add(needs.ToString()).Add(corpus.Count.ToString());
        foreach (string text in corpus) key.Add(text);
        return key.Key();
    }

    /// <summary>A content hash of a model's weights (its teacher identity): names and bytes of its state dict, in name order.</summary>
    public static string WeightsIdentity(nn.Module model)
    {
        using var sha = new ContentKey();
        foreach (var (name, t) in model.state_dict().OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sha.AddBytes(Encoding.UTF8.GetBytes(name));
            using var c = t.contiguous();
            sha.AddBytes(c.bytes);
        }
        return sha.FullHex();
    }

    /// <summary>
    /// The teacher's outputs for a batch, as stored: read from disk when every example is cached,
    /// else computed with <paramref name="teacher"/>, the missing examples stored, and the stored
    /// form returned. Tensors are padded to the batch length with zeros (losses mask padding out).
    /// </summary>
    public ModelOutput Get(IndexedBatch batch, Tensor attentionMask, Func<ModelOutput> teacher)
    {
        var records = batch.ExampleIds.Select(id => _store.Read(id)).ToArray();
        int cached = records.Count(r => r is not null);
        if (cached < records.Length)
        {
            using (var scope = NewDisposeScope()) Store(batch, teacher());
            records = batch.ExampleIds.Select(id => _store.Read(id)
                ?? throw new DistillSharpException($"{Directory}: example {id} could not be read back right after it was stored")).ToArray();
        }
        Hits += cached;
        Misses += records.Length - cached;
        return Assemble(batch, attentionMask, records.Select(r => r!).ToArray());
    }

    void Store(IndexedBatch batch, ModelOutput output)
    {
        int t = batch.Tokens.Length;
        var parts = Parts(output);
        var arrays = parts.Select(p => p.Tensor.contiguous().to_type(ScalarType.Float16).cpu().data<Half>().ToArray()).ToList();
        float[]? logits = null;
        if (_needs.Logits)
        {
            var l = output.Logits ?? throw new InvalidOperationException("teacher output has no logits");
            if (l.dim() != 2 || l.shape[1] != _classes)
                throw new DistillSharpException($"{Directory}: teacher logits are [{string.Join(", ", l.shape)}], the cache holds (B, {_classes})");
            logits = l.detach().contiguous().to_type(ScalarType.Float32).cpu().data<float>().ToArray();
        }
        for (int b = 0; b < batch.ExampleIds.Length; b++)
        {
            if (_store.Contains(batch.ExampleIds[b])) continue;
            int len = 0;
            for (int i = 0; i < t; i++) len += (int)batch.Tokens.AttentionMask[b, i];
            using var record = new MemoryStream();
            using var w = new BinaryWriter(record);
            w.Write(len);
            int first = 0;
            if (_needs.Pooled) WriteSlice(w, arrays[first++], Kind.Pooled, b, t, len);
            if (logits is not null) for (int c = 0; c < _classes; c++) w.Write(logits[b * _classes + c]);
            for (int p = first; p < parts.Count; p++) WriteSlice(w, arrays[p], parts[p].Kind, b, t, len);
            w.Flush();
            _store.Append(batch.ExampleIds[b], record.ToArray());
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

    ModelOutput Assemble(IndexedBatch batch, Tensor attentionMask, byte[][] records)
    {
        int n = batch.ExampleIds.Length, t = batch.Tokens.Length;
        var pooled = _needs.Pooled ? new float[n * _hidden] : null;
        var logits = _needs.Logits ? new float[n * _classes] : null;
        var hidden = _needs.HiddenStates.ToDictionary(l => l, _ => new float[n * t * _hidden]);
        var attn = _needs.Attentions.ToDictionary(l => l, _ => new float[n * _heads * t * t]);
        float[] NewHeads() => new float[n * _heads * t * _headDim];
        var q = _needs.Queries.ToDictionary(l => l, _ => NewHeads());
        var k = _needs.Keys.ToDictionary(l => l, _ => NewHeads());
        var v = _needs.Values.ToDictionary(l => l, _ => NewHeads());
        for (int b = 0; b < n; b++)
        {
            using var r = new BinaryReader(new MemoryStream(records[b]));
            int len = r.ReadInt32();
            if (pooled != null) for (int j = 0; j < _hidden; j++) pooled[b * _hidden + j] = (float)r.ReadHalf();
            if (logits != null) for (int c = 0; c < _classes; c++) logits[b * _classes + c] = r.ReadSingle();
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
            Logits = logits is null ? null : tensor(logits, n, _classes),
        };
    }

    public void Dispose() => _store.Dispose();
}

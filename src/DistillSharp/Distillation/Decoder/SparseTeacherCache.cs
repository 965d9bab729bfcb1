using System.Security.Cryptography;
using System.Text;
using static TorchSharp.torch;
using DistillSharp.Data.Decoder;

namespace DistillSharp.Distillation.Decoder;

/// <summary>How log-probabilities are stored in a <see cref="SparseTeacherCache"/>.</summary>
public enum LogProbPrecision
{
    /// <summary>IEEE half: 2 bytes; |error| ≤ 2⁻¹¹·|log p| (≤ 0.005 nats at log p = −10).</summary>
    Float16,
    /// <summary>IEEE single: 4 bytes, the values as computed.</summary>
    Float32,
}

/// <summary>What a sparse teacher cache keeps per scored token.</summary>
/// <param name="TopK">k: token ids kept per position (≥ 1).</param>
/// <param name="Precision">Storage of the k log-probabilities (the tail log-mass is always float32).</param>
/// <param name="Temperature">Temperature the teacher's softmax is taken at (must equal the KD loss's).</param>
public sealed record SparseCacheOptions(int TopK = 32, LogProbPrecision Precision = LogProbPrecision.Float16, double Temperature = 1.0)
{
    /// <summary>Bytes per scored token in data.bin: k int32 ids + k log-probs + one float32 tail.</summary>
    public int BytesPerToken => TopK * 4 + TopK * (Precision == LogProbPrecision.Float16 ? 2 : 4) + 4;
}

/// <summary>
/// The teacher's next-token distributions on disk in sparse form (<see cref="SparseTeacher"/>), per
/// example (packed block or SFT example), for the scored positions only. The folder is named by a
/// SHA-256 over the teacher's identity, the data's identity and the options, so a change to any of
/// them starts a new folder. <c>data.bin</c> holds records appended in first-seen order; an entry
/// in <c>index.bin</c> (after a 24-byte header: magic, k, precision, temperature) is appended only
/// after its record is flushed, so a kill leaves a valid cache. Record: int32 n, then n·k int32
/// ids, n·k log-probs, n float32 tail log-masses. Index entry (28 bytes): int64 example id, int64
/// offset, int32 length, 8 bytes of the record's SHA-256 — checked on every read, so a corrupted or
/// truncated data file is reported, never silently trained on.
/// </summary>
public sealed class SparseTeacherCache : IDisposable
{
    const int HeaderBytes = 24, EntryBytes = 28;
    static readonly byte[] Magic = "DSSPKD01"u8.ToArray();
    readonly SparseCacheOptions _options;
    readonly FileStream _data, _index;
    readonly Dictionary<long, (long Offset, int Length, ulong Check)> _entries = new();

    /// <summary>Opens (or creates) the cache folder <paramref name="root"/>/<paramref name="key"/>.</summary>
    public SparseTeacherCache(string root, string key, SparseCacheOptions options)
    {
        if (options.TopK < 1) throw new DistillSharpException($"sparse cache top_k {options.TopK} must be ≥ 1");
        if (!(options.Temperature > 0)) throw new DistillSharpException($"sparse cache temperature {options.Temperature} must be > 0");
        _options = options;
        Directory = Path.Combine(root, key);
        System.IO.Directory.CreateDirectory(Directory);
        _data = new FileStream(Path.Combine(Directory, "data.bin"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _index = new FileStream(Path.Combine(Directory, "index.bin"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            LoadIndex();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The cache folder.</summary>
    public string Directory { get; }
    /// <summary>Rows served from disk (a batch with any missing row runs the teacher on all of it, but only the missing rows count as misses).</summary>
    public long Hits { get; private set; }
    /// <summary>Rows (examples) computed by the teacher and stored.</summary>
    public long Misses { get; private set; }
    /// <summary>Examples on disk.</summary>
    public int Count => _entries.Count;
    /// <summary>Size of data.bin in bytes.</summary>
    public long Bytes => _data.Length;

    /// <summary>The content key: SHA-256 over the teacher identity, the data identity and the options.</summary>
    public static string Key(string teacherIdentity, string dataIdentity, SparseCacheOptions options)
    {
        string text = $"distillsharp-sparse-teacher-v1\0{teacherIdentity}\0{dataIdentity}\0k={options.TopK}\0{options.Precision}\0T={options.Temperature:R}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    /// <summary>True when example <paramref name="exampleId"/> is on disk.</summary>
    public bool Contains(long exampleId) => _entries.ContainsKey(exampleId);

    /// <summary>
    /// The sparse teacher for a batch: read from disk when every row is cached; otherwise the dense
    /// logits (B, T, V) from <paramref name="teacherLogits"/> are reduced to top-k, stored, and the
    /// stored form is returned — so a run trains on the same numbers whether the cache was warm or cold.
    /// </summary>
    public SparseTeacher Get(LmBatch batch, Func<Tensor> teacherLogits)
    {
        if (batch.ExampleIds.All(_entries.ContainsKey))
        {
            Hits += batch.BatchSize;
            return Assemble(batch);
        }
        int cached = batch.ExampleIds.Count(_entries.ContainsKey);
        using (var scope = NewDisposeScope())
        {
            Tensor logits;
            using (no_grad()) logits = teacherLogits();
            Store(batch, SparseTeacher.FromLogits(logits, _options.TopK, _options.Temperature));
        }
        Hits += cached;
        Misses += batch.BatchSize - cached;
        return Assemble(batch);
    }

    /// <summary>Stores the rows of <paramref name="batch"/> that are not on disk yet (scored positions only).</summary>
    public void Store(LmBatch batch, SparseTeacher teacher)
    {
        if (teacher.K != _options.TopK) throw new DistillSharpException($"sparse teacher has k = {teacher.K} but the cache keeps {_options.TopK}");
        int b = batch.BatchSize, t = batch.Length, k = _options.TopK;
        long[] ids = teacher.Ids.contiguous().cpu().data<long>().ToArray();
        float[] logProbs = teacher.LogProbs.contiguous().cpu().data<float>().ToArray();
        float[] tails = teacher.TailLogMass.contiguous().cpu().data<float>().ToArray();
        for (int r = 0; r < b; r++)
        {
            long example = batch.ExampleIds[r];
            if (_entries.ContainsKey(example)) continue;
            var positions = Enumerable.Range(0, t).Where(i => batch.LossMask[r * t + i] != 0).ToArray();
            using var record = new MemoryStream();
            using (var w = new BinaryWriter(record, Encoding.UTF8, leaveOpen: true))
            {
                w.Write(positions.Length);
                foreach (int i in positions) for (int j = 0; j < k; j++) w.Write((int)ids[(r * t + i) * k + j]);
                foreach (int i in positions)
                    for (int j = 0; j < k; j++)
                        if (_options.Precision == LogProbPrecision.Float16) w.Write((Half)logProbs[(r * t + i) * k + j]);
                        else w.Write(logProbs[(r * t + i) * k + j]);
                foreach (int i in positions) w.Write(tails[r * t + i]);
            }
            byte[] bytes = record.ToArray();
            long offset = _data.Length;
            _data.Seek(0, SeekOrigin.End);
            _data.Write(bytes);
            _data.Flush();
            ulong check = Checksum(bytes);
            var entry = new byte[EntryBytes];
            BitConverter.TryWriteBytes(entry, example);
            BitConverter.TryWriteBytes(entry.AsSpan(8), offset);
            BitConverter.TryWriteBytes(entry.AsSpan(16), bytes.Length);
            BitConverter.TryWriteBytes(entry.AsSpan(20), check);
            _index.Seek(0, SeekOrigin.End);
            _index.Write(entry);
            _index.Flush();
            _entries[example] = (offset, bytes.Length, check);
        }
    }

    /// <summary>The cached rows of a batch as a <see cref="SparseTeacher"/>; zeros at unscored positions.</summary>
    public SparseTeacher Assemble(LmBatch batch)
    {
        int b = batch.BatchSize, t = batch.Length, k = _options.TopK;
        var ids = new long[b * t * k];
        var logProbs = new float[b * t * k];
        var tails = new float[b * t];
        for (int r = 0; r < b; r++)
        {
            long example = batch.ExampleIds[r];
            if (!_entries.TryGetValue(example, out var e)) throw new DistillSharpException($"{Directory}: example {example} is not in the sparse teacher cache");
            using var reader = new BinaryReader(new MemoryStream(ReadRecord(example, e)));
            int n = reader.ReadInt32();
            var positions = Enumerable.Range(0, t).Where(i => batch.LossMask[r * t + i] != 0).ToArray();
            if (n != positions.Length)
                throw new DistillSharpException($"{Directory}: example {example} was cached with {n} scored tokens but the batch scores {positions.Length}; the cache is stale — delete the folder");
            foreach (int i in positions) for (int j = 0; j < k; j++) ids[(r * t + i) * k + j] = reader.ReadInt32();
            foreach (int i in positions)
                for (int j = 0; j < k; j++)
                    logProbs[(r * t + i) * k + j] = _options.Precision == LogProbPrecision.Float16 ? (float)reader.ReadHalf() : reader.ReadSingle();
            foreach (int i in positions) tails[r * t + i] = reader.ReadSingle();
        }
        return new SparseTeacher(tensor(ids, b, t, k), tensor(logProbs, b, t, k), tensor(tails, b, t), _options.Temperature);
    }

    byte[] ReadRecord(long example, (long Offset, int Length, ulong Check) e)
    {
        if (e.Offset + e.Length > _data.Length)
            throw new DistillSharpException($"{Directory}/data.bin is truncated: example {example} ends at byte {e.Offset + e.Length} but the file has {_data.Length}; delete the folder to rebuild the cache");
        var bytes = new byte[e.Length];
        _data.Seek(e.Offset, SeekOrigin.Begin);
        _data.ReadExactly(bytes);
        if (Checksum(bytes) != e.Check)
            throw new DistillSharpException($"{Directory}/data.bin is corrupt: the record of example {example} at byte {e.Offset} fails its checksum; delete the folder to rebuild the cache");
        return bytes;
    }

    static ulong Checksum(byte[] bytes) => BitConverter.ToUInt64(SHA256.HashData(bytes), 0);

    void LoadIndex()
    {
        if (_index.Length == 0)
        {
            var header = new byte[HeaderBytes];
            Magic.CopyTo(header, 0);
            BitConverter.TryWriteBytes(header.AsSpan(8), _options.TopK);
            BitConverter.TryWriteBytes(header.AsSpan(12), (int)_options.Precision);
            BitConverter.TryWriteBytes(header.AsSpan(16), _options.Temperature);
            _index.Write(header);
            _index.Flush();
            return;
        }
        var bytes = new byte[_index.Length];
        _index.Seek(0, SeekOrigin.Begin);
        _index.ReadExactly(bytes);
        if (bytes.Length < HeaderBytes || !bytes.AsSpan(0, 8).SequenceEqual(Magic))
            throw new DistillSharpException($"{Directory}/index.bin is not a sparse teacher index (bad header); delete the folder to rebuild the cache");
        int k = BitConverter.ToInt32(bytes, 8), precision = BitConverter.ToInt32(bytes, 12);
        double temperature = BitConverter.ToDouble(bytes, 16);
        if (k != _options.TopK || precision != (int)_options.Precision || temperature != _options.Temperature)
            throw new DistillSharpException($"{Directory}/index.bin was written with k = {k}, precision {(LogProbPrecision)precision}, T = {temperature}, not k = {_options.TopK}, {_options.Precision}, T = {_options.Temperature}; delete the folder");
        int whole = (bytes.Length - HeaderBytes) / EntryBytes; // a torn last entry (kill mid-write) is dropped
        for (int i = 0; i < whole; i++)
        {
            int at = HeaderBytes + i * EntryBytes;
            long example = BitConverter.ToInt64(bytes, at), offset = BitConverter.ToInt64(bytes, at + 8);
            int length = BitConverter.ToInt32(bytes, at + 16);
            if (offset < 0 || length <= 0 || offset + length > _data.Length)
                throw new DistillSharpException($"{Directory}/data.bin is truncated or index.bin corrupt: entry {i} (example {example}) spans bytes {offset}..{offset + length} of a {_data.Length}-byte file; delete the folder to rebuild the cache");
            _entries[example] = (offset, length, BitConverter.ToUInt64(bytes, at + 20));
        }
        _index.SetLength(HeaderBytes + (long)whole * EntryBytes);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _data.Dispose();
        _index.Dispose();
    }
}

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
/// example (packed block or SFT example), for the scored positions only, in a <see cref="RecordStore"/>
/// (append-only, checksummed; a torn or corrupt record is recomputed when a teacher is given). The
/// folder is named by a SHA-256 over the teacher's identity, the data's identity and the options, so
/// a change to any of them starts a new folder; the store's header records k, the precision and the
/// temperature. Record: int32 n, then n·k int32 ids, n·k log-probs, n float32 tail log-masses.
/// </summary>
public sealed class SparseTeacherCache : IDisposable
{
    readonly SparseCacheOptions _options;
    readonly RecordStore _store;

    /// <summary>Opens (or creates) the cache folder <paramref name="root"/>/<paramref name="key"/>.</summary>
    public SparseTeacherCache(string root, string key, SparseCacheOptions options)
    {
        if (options.TopK < 1) throw new DistillSharpException($"sparse cache top_k {options.TopK} must be ≥ 1");
        if (!(options.Temperature > 0)) throw new DistillSharpException($"sparse cache temperature {options.Temperature} must be > 0");
        _options = options;
        byte[] settings = Settings(options);
        _store = new RecordStore(Path.Combine(root, key), settings);
        if (!_store.StoredSettings.AsSpan().SequenceEqual(settings))
        {
            _store.Dispose();
            throw new DistillSharpException($"{Path.Combine(root, key)}/index.bin was written with {RecordStore.Describe(_store.StoredSettings)}, " +
                $"not {RecordStore.Describe(settings)}; delete the folder");
        }
    }

    static byte[] Settings(SparseCacheOptions o) =>
        Encoding.UTF8.GetBytes($"sparse-teacher k = {o.TopK}, precision {o.Precision}, T = {o.Temperature.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}");

    /// <summary>The cache folder.</summary>
    public string Directory => _store.Directory;
    /// <summary>Rows served from disk (a batch with any missing row runs the teacher on all of it, but only the missing rows count as misses).</summary>
    public long Hits { get; private set; }
    /// <summary>Rows (examples) computed by the teacher and stored.</summary>
    public long Misses { get; private set; }
    /// <summary>Examples on disk.</summary>
    public int Count => _store.Count;
    /// <summary>Size of data.bin in bytes.</summary>
    public long Bytes => _store.Bytes;
    /// <summary>Records found torn or corrupt (and dropped) since the cache was opened.</summary>
    public long Dropped => _store.Dropped;

    /// <summary>The content key: SHA-256 over the teacher identity, the data identity and the options.</summary>
    public static string Key(string teacherIdentity, string dataIdentity, SparseCacheOptions options)
    {
        string text = $"distillsharp-sparse-teacher-v2\0{teacherIdentity}\0{dataIdentity}\0k={options.TopK}\0{options.Precision}\0T={options.Temperature:R}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..24];
    }

    /// <summary>True when example <paramref name="exampleId"/> is on disk.</summary>
    public bool Contains(long exampleId) => _store.Contains(exampleId);

    /// <summary>
    /// The sparse teacher for a batch: read from disk when every row is cached; otherwise the dense
    /// logits (B, T, V) from <paramref name="teacherLogits"/> are reduced to top-k, the missing rows
    /// stored, and the stored form is returned — so a run trains on the same numbers whether the
    /// cache was warm or cold. A torn or corrupt row counts as missing.
    /// </summary>
    public SparseTeacher Get(LmBatch batch, Func<Tensor> teacherLogits)
    {
        var records = batch.ExampleIds.Select(_store.Read).ToArray();
        int cached = records.Count(r => r is not null);
        if (cached < records.Length)
        {
            using (var scope = NewDisposeScope())
            {
                Tensor logits;
                using (no_grad()) logits = teacherLogits();
                Store(batch, SparseTeacher.FromLogits(logits, _options.TopK, _options.Temperature));
            }
            records = batch.ExampleIds.Select(_store.Read).ToArray();
        }
        Hits += cached;
        Misses += batch.BatchSize - cached;
        return Assemble(batch, records);
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
            if (_store.Contains(example)) continue;
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
            _store.Append(example, record.ToArray());
        }
    }

    /// <summary>The cached rows of a batch as a <see cref="SparseTeacher"/>; zeros at unscored positions.</summary>
    public SparseTeacher Assemble(LmBatch batch) => Assemble(batch, batch.ExampleIds.Select(_store.Read).ToArray());

    SparseTeacher Assemble(LmBatch batch, byte[]?[] records)
    {
        int b = batch.BatchSize, t = batch.Length, k = _options.TopK;
        var ids = new long[b * t * k];
        var logProbs = new float[b * t * k];
        var tails = new float[b * t];
        for (int r = 0; r < b; r++)
        {
            long example = batch.ExampleIds[r];
            var bytes = records[r] ?? throw new DistillSharpException(
                $"{Directory}: example {example} is not in the sparse teacher cache (or its record was torn or corrupt and no teacher was given to recompute it)");
            using var reader = new BinaryReader(new MemoryStream(bytes));
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

    /// <inheritdoc/>
    public void Dispose() => _store.Dispose();
}

using System.Security.Cryptography;
using System.Text;

namespace DistillSharp.Distillation;

/// <summary>
/// An append-only store of byte records keyed by a 64-bit id, the one on-disk form under every
/// teacher-output cache. <c>data.bin</c> holds the records in the order they were appended;
/// <c>index.bin</c> holds a header (magic, then the owner's settings bytes) and one 28-byte entry per
/// record (int64 key, int64 offset, int32 length, 8 bytes of the record's SHA-256), appended only
/// after its record is flushed — so a kill at any moment leaves a store whose complete entries all
/// point at complete records. A record that is torn (the data file was cut) or corrupt (its checksum
/// fails) is dropped and reported as missing, so the owner recomputes it; a later entry for the same
/// key supersedes an earlier one.
/// </summary>
public sealed class RecordStore : IDisposable
{
    const int EntryBytes = 28;
    static readonly byte[] Magic = "DSRECS01"u8.ToArray();
    readonly FileStream _data, _index;
    readonly Dictionary<long, (long Offset, int Length, ulong Check)> _entries = new();
    readonly int _headerBytes;

    /// <summary>
    /// Opens (or creates) the store in <paramref name="directory"/>. A new store records
    /// <paramref name="settings"/> in its header; an existing one keeps what it was created with
    /// (<see cref="StoredSettings"/>), which the owner compares with its own.
    /// </summary>
    public RecordStore(string directory, byte[] settings)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        _data = new FileStream(Path.Combine(directory, "data.bin"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        _index = new FileStream(Path.Combine(directory, "index.bin"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            (StoredSettings, _headerBytes) = _index.Length == 0 ? WriteHeader(settings) : ReadHeader();
            LoadEntries();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The store's folder.</summary>
    public string Directory { get; }
    /// <summary>The settings bytes the store was created with.</summary>
    public byte[] StoredSettings { get; }
    /// <summary>Records the store holds.</summary>
    public int Count => _entries.Count;
    /// <summary>Size of data.bin in bytes.</summary>
    public long Bytes => _data.Length;
    /// <summary>Records found torn or corrupt (and dropped) since the store was opened.</summary>
    public long Dropped { get; private set; }

    /// <summary>True when a record for <paramref name="key"/> is indexed.</summary>
    public bool Contains(long key) => _entries.ContainsKey(key);

    /// <summary>Appends <paramref name="record"/> under <paramref name="key"/>: the record is flushed before its index entry.</summary>
    public void Append(long key, byte[] record)
    {
        if (record.Length == 0) throw new ArgumentException("a record must not be empty", nameof(record));
        long offset = _data.Length;
        _data.Seek(0, SeekOrigin.End);
        _data.Write(record);
        _data.Flush();
        ulong check = Checksum(record);
        var entry = new byte[EntryBytes];
        BitConverter.TryWriteBytes(entry, key);
        BitConverter.TryWriteBytes(entry.AsSpan(8), offset);
        BitConverter.TryWriteBytes(entry.AsSpan(16), record.Length);
        BitConverter.TryWriteBytes(entry.AsSpan(20), check);
        _index.Seek(0, SeekOrigin.End);
        _index.Write(entry);
        _index.Flush();
        _entries[key] = (offset, record.Length, check);
    }

    /// <summary>
    /// The record of <paramref name="key"/>, or null when there is none — or when it is torn or fails
    /// its checksum, in which case it is dropped (and counted in <see cref="Dropped"/>) so the owner recomputes it.
    /// </summary>
    public byte[]? Read(long key)
    {
        if (!_entries.TryGetValue(key, out var e)) return null;
        if (e.Offset + e.Length <= _data.Length)
        {
            var bytes = new byte[e.Length];
            _data.Seek(e.Offset, SeekOrigin.Begin);
            _data.ReadExactly(bytes);
            if (Checksum(bytes) == e.Check) return bytes;
        }
        _entries.Remove(key);
        Dropped++;
        return null;
    }

    static ulong Checksum(byte[] bytes) => BitConverter.ToUInt64(SHA256.HashData(bytes), 0);

    (byte[] Settings, int HeaderBytes) WriteHeader(byte[] settings)
    {
        var header = new byte[Magic.Length + 4 + settings.Length];
        Magic.CopyTo(header, 0);
        BitConverter.TryWriteBytes(header.AsSpan(Magic.Length), settings.Length);
        settings.CopyTo(header, Magic.Length + 4);
        _index.Write(header);
        _index.Flush();
        return (settings, header.Length);
    }

    (byte[] Settings, int HeaderBytes) ReadHeader()
    {
        var fixedPart = new byte[Magic.Length + 4];
        int read = _index.Read(fixedPart);
        int length = read == fixedPart.Length ? BitConverter.ToInt32(fixedPart, Magic.Length) : -1;
        if (read != fixedPart.Length || !fixedPart.AsSpan(0, Magic.Length).SequenceEqual(Magic) || length < 0 || length > 4096
            || _index.Length < fixedPart.Length + length)
            throw new DistillSharpException($"{Directory}/index.bin is not a DistillSharp record index (bad header); delete the folder to rebuild the cache");
        var settings = new byte[length];
        _index.ReadExactly(settings);
        return (settings, fixedPart.Length + length);
    }

    void LoadEntries()
    {
        long count = (_index.Length - _headerBytes) / EntryBytes; // a torn last entry (kill mid-write) is dropped
        var bytes = new byte[count * EntryBytes];
        _index.Seek(_headerBytes, SeekOrigin.Begin);
        _index.ReadExactly(bytes);
        for (int at = 0; at < bytes.Length; at += EntryBytes)
        {
            long key = BitConverter.ToInt64(bytes, at), offset = BitConverter.ToInt64(bytes, at + 8);
            int length = BitConverter.ToInt32(bytes, at + 16);
            if (offset < 0 || length <= 0 || offset > _data.Length - length) { Dropped++; continue; } // torn: its record never fully landed
            _entries[key] = (offset, length, BitConverter.ToUInt64(bytes, at + 20));
        }
        _index.SetLength(_headerBytes + bytes.LongLength);
    }

    /// <summary>Describes settings bytes for messages (UTF-8 text, which is what the caches store).</summary>
    public static string Describe(byte[] settings) => Encoding.UTF8.GetString(settings);

    /// <inheritdoc/>
    public void Dispose()
    {
        _data.Dispose();
        _index.Dispose();
    }
}

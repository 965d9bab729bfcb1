using System.Text;
using System.Text.Json;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>
/// The collector's resumable, append-only result file: one <see cref="TeacherTrace"/> per JSON
/// line, keyed by <see cref="TeacherTrace.Key"/>. Each record is one write of "json\n" followed by
/// a flush to disk, so a kill leaves at most one torn last line; opening drops it (truncating the
/// file to the last complete line) and every complete line stays. A malformed line before the last
/// is corruption and an error naming the line. Appends from several threads are serialised.
/// </summary>
public sealed class TraceStore : IDisposable
{
    /// <summary>snake_case JSON, nulls left out; a log-probability the endpoint did not give (an echoed first token's) is "NaN".</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    readonly FileStream _file;
    readonly List<TeacherTrace> _traces = [];
    readonly HashSet<string> _keys = [];
    readonly Lock _lock = new();

    /// <summary>Opens (or creates) <paramref name="path"/>, reading every complete record.</summary>
    public TraceStore(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            Load();
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>The JSONL file.</summary>
    public string Path { get; }
    /// <summary>Records on disk.</summary>
    public int Count { get { lock (_lock) return _traces.Count; } }
    /// <summary>Bytes of a torn last line dropped when the file was opened (0 when it ended cleanly).</summary>
    public long TornBytes { get; private set; }

    /// <summary>True when a record with <paramref name="key"/> is stored.</summary>
    public bool Contains(string key) { lock (_lock) return _keys.Contains(key); }

    /// <summary>The records in the order they were written.</summary>
    public IReadOnlyList<TeacherTrace> All() { lock (_lock) return [.. _traces]; }

    /// <summary>Appends <paramref name="trace"/> durably; false (nothing written) when its key is already stored.</summary>
    public bool Append(TeacherTrace trace)
    {
        byte[] line = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(trace, Json) + "\n");
        lock (_lock)
        {
            if (!_keys.Add(trace.Key)) return false;
            _file.Seek(0, SeekOrigin.End);
            _file.Write(line);
            _file.Flush(flushToDisk: true);
            _traces.Add(trace);
            return true;
        }
    }

    void Load()
    {
        var bytes = new byte[_file.Length];
        _file.ReadExactly(bytes);
        long good = 0;
        int lineNumber = 0;
        while (good < bytes.Length)
        {
            int end = Array.IndexOf(bytes, (byte)'\n', (int)good);
            lineNumber++;
            if (end < 0) break;                                   // no newline: the torn tail of a killed append
            var line = bytes.AsSpan((int)good, end - (int)good);
            bool last = end == bytes.Length - 1;
            if (line.Trim((byte)' ').Length > 0)
            {
                TeacherTrace? trace = null;
                try
                {
                    trace = JsonSerializer.Deserialize<TeacherTrace>(line, Json);
                }
                catch (JsonException e) when (!last)
                {
                    throw new DistillSharpException($"{Path} line {lineNumber}: not a trace record ({e.Message}); the file is corrupt — delete the line or the file");
                }
                catch (JsonException)
                {
                    break;                                        // a complete but unparsable last line: treat as torn
                }
                if (trace is null || string.IsNullOrEmpty(trace.Key))
                    throw new DistillSharpException($"{Path} line {lineNumber}: a trace record without a key");
                if (_keys.Add(trace.Key)) _traces.Add(trace);
            }
            good = end + 1;
        }
        TornBytes = bytes.Length - good;
        if (TornBytes > 0)
        {
            _file.SetLength(good);
            _file.Flush(flushToDisk: true);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _file.Dispose();
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Runtime.Formats;

/// <summary>One tensor as stored in a safetensors file: dtype name, shape, little-endian bytes.</summary>
public sealed record SafeTensor(string Dtype, long[] Shape, byte[] Data)
{
    /// <summary>Element count from the shape.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Shape as "[a, b]", for messages.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
/// JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}),
/// then the tensor bytes, offsets relative to the end of the header. Every error names the file and
/// the tensor.
/// </summary>
public static class Safetensors
{
    const ulong MaxHeaderBytes = 100_000_000;

    /// <summary>Bytes per element of every dtype this reader accepts, by safetensors name.</summary>
    public static readonly IReadOnlyDictionary<string, int> DtypeSizes = new Dictionary<string, int>
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Reads every tensor and the metadata of a safetensors file.</summary>
    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"{path}: file not found");
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new DistillSharpException($"{path}: {bytes.Length} bytes is too short for a safetensors file");
        ulong headerLength = BitConverter.ToUInt64(bytes, 0);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw new DistillSharpException($"{path}: header length {headerLength} exceeds the file ({bytes.Length} bytes): truncated or not safetensors");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))!.AsObject();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException)
        {
            throw new DistillSharpException($"{path}: safetensors header is not a JSON object ({e.Message})");
        }
        long dataStart = 8 + (long)headerLength;
        long dataLength = bytes.Length - dataStart;
        var tensors = new Dictionary<string, SafeTensor>();
        var metadata = new Dictionary<string, string>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node!.AsObject()) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            string where = $"{path}: tensor '{name}'";
            var entry = node as JsonObject ?? throw new DistillSharpException($"{where}: header entry is not an object");
            string dtype = entry["dtype"]?.GetValue<string>() ?? throw new DistillSharpException($"{where}: no dtype");
            if (!DtypeSizes.TryGetValue(dtype, out int size))
                throw new DistillSharpException($"{where}: dtype {dtype} is not supported; supported: {string.Join(", ", DtypeSizes.Keys)}");
            long[] shape = entry["shape"]?.AsArray().Select(x => x!.GetValue<long>()).ToArray() ?? throw new DistillSharpException($"{where}: no shape");
            var offsets = entry["data_offsets"]?.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            if (offsets is not { Length: 2 } || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw new DistillSharpException($"{where}: data_offsets [{string.Join(", ", offsets ?? [])}] lie outside the {dataLength} data bytes (truncated file?)");
            long expected = shape.Aggregate(1L, (a, b) => a * b) * size;
            if (offsets[1] - offsets[0] != expected)
                throw new DistillSharpException($"{where}: shape [{string.Join(", ", shape)}] of {dtype} needs {expected} bytes, the file gives {offsets[1] - offsets[0]}");
            tensors[name] = new SafeTensor(dtype, shape, bytes.AsSpan((int)(dataStart + offsets[0]), (int)expected).ToArray());
        }
        return (tensors, metadata);
    }

    /// <summary>
    /// Writes tensors (in name order) and metadata. The file appears atomically: it is written to a
    /// temporary name and renamed, so an interrupted write leaves any previous file intact.
    /// </summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, SafeTensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is { Count: > 0 })
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        long offset = 0;
        var ordered = tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        foreach (var (name, t) in ordered)
        {
            if (!DtypeSizes.TryGetValue(t.Dtype, out int size)) throw new ArgumentException($"tensor '{name}': unknown dtype {t.Dtype}");
            if (t.Data.Length != t.Count * size)
                throw new ArgumentException($"tensor '{name}': {t.Data.Length} bytes do not match shape [{string.Join(", ", t.Shape)}] of {t.Dtype}");
            header[name] = new JsonObject
            {
                ["dtype"] = t.Dtype,
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Data.Length),
            };
            offset += t.Data.Length;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // keep tensor data 8-byte aligned
        AtomicFile.Write(path, stream =>
        {
            stream.Write(BitConverter.GetBytes((ulong)padded));
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, t) in ordered) stream.Write(t.Data);
        });
    }
}

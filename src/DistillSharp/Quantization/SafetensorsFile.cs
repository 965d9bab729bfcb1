using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Quantization;

/// <summary>One tensor of a safetensors file: dtype name ("I8", "U8", "F32", "I32"), shape, raw little-endian bytes.</summary>
public sealed record SafetensorsEntry(string DType, long[] Shape, byte[] Data)
{
    /// <summary>Bytes per element of a dtype name, or 0 when unknown.</summary>
    public static int ElementSize(string dtype) => dtype switch
    {
        "I8" or "U8" or "BOOL" => 1,
        "I16" or "U16" or "F16" or "BF16" => 2,
        "I32" or "U32" or "F32" => 4,
        "I64" or "U64" or "F64" => 8,
        _ => 0,
    };

    /// <summary>Shape as "[a, b]".</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// Minimal reader/writer of the safetensors format (an 8-byte little-endian header length, a JSON
/// header mapping names to dtype/shape/data_offsets plus an optional "__metadata__" string map,
/// then the raw data). Written here rather than through TorchSharp so the INT8 runtime can load
/// files without libtorch, and so metadata can be stored. Every boundary is checked.
/// </summary>
public static class SafetensorsFile
{
    private const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> (in the given order) and <paramref name="metadata"/>.</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, SafetensorsEntry>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject(metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))) };
        var list = tensors.ToList();
        long offset = 0;
        foreach (var (name, t) in list)
        {
            var expected = t.Shape.Aggregate(1L, (a, b) => a * b) * SafetensorsEntry.ElementSize(t.DType);
            if (expected != t.Data.Length)
                throw new ArgumentException($"tensor '{name}' ({t.DType} {t.ShapeText}) needs {expected} bytes, has {t.Data.Length}");
            header[name] = new JsonObject
            {
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Data.Length),
            };
            offset += t.Data.Length;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;                      // data starts 8-byte aligned
        using var stream = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(json);
        for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, t) in list) stream.Write(t.Data);
    }

    /// <summary>Reads every tensor and the metadata; throws <see cref="DistillSharpException"/> naming the bad part.</summary>
    public static (Dictionary<string, SafetensorsEntry> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"safetensors file not found: {path}");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new DistillSharpException($"{path}: {bytes.Length} bytes is too short for a safetensors file");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > bytes.Length - 8)
            throw new DistillSharpException($"{path}: header length {headerLength} does not fit in a {bytes.Length}-byte file");
        JsonObject header;
        try
        {
            header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, (int)headerLength))?.AsObject()
                     ?? throw new DistillSharpException($"{path}: empty safetensors header");
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"{path}: safetensors header is not valid JSON ({e.Message})", e);
        }
        var dataStart = 8 + (long)headerLength;
        var dataLength = bytes.Length - dataStart;
        var metadata = new Dictionary<string, string>();
        var tensors = new Dictionary<string, SafetensorsEntry>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__")
            {
                foreach (var (k, v) in node?.AsObject() ?? []) metadata[k] = v?.GetValue<string>() ?? "";
                continue;
            }
            tensors[name] = ReadEntry(path, name, node, bytes, dataStart, dataLength);
        }
        return (tensors, metadata);
    }

    private static SafetensorsEntry ReadEntry(string path, string name, JsonNode? node, byte[] bytes, long dataStart, long dataLength)
    {
        try
        {
            var dtype = node!["dtype"]!.GetValue<string>();
            var shape = node["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var offsets = node["data_offsets"]!.AsArray().Select(d => d!.GetValue<long>()).ToArray();
            var size = SafetensorsEntry.ElementSize(dtype);
            if (size == 0) throw new DistillSharpException($"{path}: tensor '{name}' has unknown dtype '{dtype}'");
            var expected = shape.Aggregate(1L, (a, b) => a * b) * size;
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw new DistillSharpException($"{path}: tensor '{name}' has data_offsets [{string.Join(", ", offsets)}] outside the {dataLength}-byte data section");
            if (offsets[1] - offsets[0] != expected)
                throw new DistillSharpException($"{path}: tensor '{name}' is {dtype} [{string.Join(", ", shape)}] = {expected} bytes but its data_offsets span {offsets[1] - offsets[0]}");
            var data = bytes.AsSpan((int)(dataStart + offsets[0]), (int)expected).ToArray();
            return new SafetensorsEntry(dtype, shape, data);
        }
        catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
        {
            throw new DistillSharpException($"{path}: tensor '{name}' has a malformed header entry ({e.Message})", e);
        }
    }
}

using System.Text;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace DistillSharp.Runtime.Formats;

/// <summary>One tensor as stored in a safetensors file: dtype name, shape, little-endian bytes.</summary>
public sealed record SafeTensor(string Dtype, long[] Shape, byte[] Data)
{
    /// <summary>Element count from the shape.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Shape as "[a, b]", for messages.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";

    /// <summary>Index of the first NaN or infinity of a float tensor (F64, F32, F16, BF16), or -1 (also for integer dtypes).</summary>
    public long FirstNonFinite()
    {
        var d = Data.AsSpan();
        switch (Dtype)
        {
            case "F32":
                var f = MemoryMarshal.Cast<byte, uint>(d);
                for (int i = 0; i < f.Length; i++) if ((f[i] & 0x7F80_0000u) == 0x7F80_0000u) return i;
                break;
            case "F64":
                var g = MemoryMarshal.Cast<byte, ulong>(d);
                for (int i = 0; i < g.Length; i++) if ((g[i] & 0x7FF0_0000_0000_0000ul) == 0x7FF0_0000_0000_0000ul) return i;
                break;
            case "F16" or "BF16":
                ushort mask = Dtype == "F16" ? (ushort)0x7C00 : (ushort)0x7F80;
                var h = MemoryMarshal.Cast<byte, ushort>(d);
                for (int i = 0; i < h.Length; i++) if ((h[i] & mask) == mask) return i;
                break;
        }
        return -1;
    }

    /// <summary>Throws naming <paramref name="where"/> and the element when a float tensor holds a NaN or an infinity.</summary>
    public void RequireFinite(string where)
    {
        long i = FirstNonFinite();
        if (i >= 0) throw new DistillSharpException($"{where} holds a NaN or infinite value (element {i:N0} of {ShapeText}); the weights are corrupt");
    }
}

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length N, N bytes of
/// JSON ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}),
/// then the tensor bytes, offsets relative to the end of the header. Every error names the file and
/// the tensor.
/// </summary>
public static class Safetensors
{
    /// <summary>Bytes per element of every dtype this reader accepts, by safetensors name.</summary>
    public static readonly IReadOnlyDictionary<string, int> DtypeSizes = new Dictionary<string, int>
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>
    /// Reads every tensor and the metadata of a safetensors file. The header is validated first
    /// (<see cref="SafetensorsHeader"/>); then each tensor is read into its own array, after checking
    /// that the data fits the memory this process may use.
    /// </summary>
    public static (Dictionary<string, SafeTensor> Tensors, Dictionary<string, string> Metadata) Read(string path)
    {
        var header = SafetensorsHeader.Read(path);
        var big = header.Tensors.FirstOrDefault(t => t.Bytes > Array.MaxLength);
        if (big is not null)
            throw new DistillSharpException($"{path}: tensor '{big.Name}' {big.ShapeText} is {big.Bytes:N0} bytes; tensors over {Array.MaxLength:N0} bytes are not supported");
        MemoryBudget.Require(header.DataLength, $"{path}: reading {header.Tensors.Count} tensors");
        var tensors = new Dictionary<string, SafeTensor>(StringComparer.Ordinal);
        using var stream = InputFile.Open(path);
        foreach (var t in header.Tensors)
        {
            var data = GC.AllocateUninitializedArray<byte>((int)t.Bytes);
            InputFile.ReadExactly(stream, data, header.DataStart + t.Begin, path);
            tensors[t.Name] = new SafeTensor(t.Dtype, t.Shape, data);
        }
        return (tensors, new Dictionary<string, string>(header.Metadata));
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

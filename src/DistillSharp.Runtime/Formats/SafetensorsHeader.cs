using System.Buffers.Binary;
using System.Text.Json;

namespace DistillSharp.Runtime.Formats;

/// <summary>Where one tensor lies in a safetensors file: dtype, shape and byte range of the data section.</summary>
public sealed record SafeTensorEntry(string Name, string Dtype, long[] Shape, long Begin, long End)
{
    /// <summary>Bytes of the tensor.</summary>
    public long Bytes => End - Begin;

    /// <summary>Shape as "[a, b]", for messages.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// The validated header of a safetensors file, read without touching the tensor data. The rules
/// (from the format's specification, enforced before a single tensor byte is allocated): an 8-byte
/// little-endian length N with 2 ≤ N ≤ 100 MB and N ≤ file size − 8; N bytes of UTF-8 JSON holding
/// one object; tensor names unique; each entry {dtype: known string, shape: integers ≥ 0,
/// data_offsets: [begin, end] integers with end − begin = product(shape) × dtype size};
/// "__metadata__" maps strings to strings; the tensors tile the data section exactly — sorted by
/// offset they start at 0, each begins where the previous ends (no overlap, no alias, no hole) and
/// the last ends at the end of the file.
/// </summary>
public sealed record SafetensorsHeader(string Path, long DataStart, long DataLength, IReadOnlyList<SafeTensorEntry> Tensors,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Largest header the reader accepts (the format's own limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Reads and validates the header of <paramref name="path"/>.</summary>
    public static SafetensorsHeader Read(string path)
    {
        long fileLength = InputFile.Check(path, long.MaxValue, "safetensors");
        if (fileLength < 8) throw new DistillSharpException($"{path}: {fileLength} bytes is too short for a safetensors file");
        using var stream = InputFile.Open(path);
        Span<byte> prefix = stackalloc byte[8];
        InputFile.ReadExactly(stream, prefix, 0, path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n < 2 || n > MaxHeaderBytes || n > (ulong)(fileLength - 8))
            throw new DistillSharpException(
                $"{path}: header length {n:N0} does not fit a safetensors file of {fileLength:N0} bytes (allowed 2 to {Math.Min(MaxHeaderBytes, fileLength - 8):N0}): truncated or not safetensors");
        var json = new byte[(int)n];
        InputFile.ReadExactly(stream, json, 8, path);
        long dataStart = 8 + (long)n;
        return Parse(json, path, dataStart, fileLength - dataStart);
    }

    static SafetensorsHeader Parse(byte[] json, string path, long dataStart, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"{path}: safetensors header is not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new DistillSharpException($"{path}: safetensors header is a JSON {root.ValueKind}, expected an object");
            var tensors = new List<SafeTensorEntry>();
            var metadata = new Dictionary<string, string>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!names.Add(property.Name)) throw new DistillSharpException($"{path}: tensor '{property.Name}' is listed twice in the header");
                if (property.Name == "__metadata__") ReadMetadata(property.Value, metadata, path);
                else tensors.Add(ReadEntry(property.Name, property.Value, path));
            }
            CheckTiling(tensors, dataLength, path);
            return new SafetensorsHeader(path, dataStart, dataLength, tensors, metadata);
        }
    }

    static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new DistillSharpException($"{path}: __metadata__ is a JSON {value.ValueKind}, expected an object of strings");
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
                throw new DistillSharpException($"{path}: __metadata__ '{p.Name}' is {p.Value.GetRawText()}, expected a string");
            if (!metadata.TryAdd(p.Name, p.Value.GetString()!)) throw new DistillSharpException($"{path}: __metadata__ '{p.Name}' is listed twice");
        }
    }

    static SafeTensorEntry ReadEntry(string name, JsonElement entry, string path)
    {
        string where = $"{path}: tensor '{name}'";
        if (entry.ValueKind != JsonValueKind.Object) throw new DistillSharpException($"{where}: header entry is a JSON {entry.ValueKind}, expected an object");
        if (!entry.TryGetProperty("dtype", out var dtypeNode) || dtypeNode.ValueKind != JsonValueKind.String)
            throw new DistillSharpException($"{where}: dtype must be a string, got {Raw(entry, "dtype")}");
        string dtype = dtypeNode.GetString()!;
        if (!Safetensors.DtypeSizes.TryGetValue(dtype, out int size))
            throw new DistillSharpException($"{where}: dtype {dtype} is not supported; supported: {string.Join(", ", Safetensors.DtypeSizes.Keys)}");
        long[] shape = Integers(entry, "shape", where, count: null);
        long[] offsets = Integers(entry, "data_offsets", where, count: 2);
        long elements = 1;
        foreach (long d in shape)
            if (d != 0 && elements > long.MaxValue / d / size) throw new DistillSharpException($"{where}: shape [{string.Join(", ", shape)}] is too large");
            else elements *= d;
        long bytes = elements * size;
        if (offsets[1] < offsets[0])
            throw new DistillSharpException($"{where}: data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        if (offsets[1] - offsets[0] != bytes)
            throw new DistillSharpException($"{where}: shape [{string.Join(", ", shape)}] of {dtype} needs {bytes:N0} bytes, data_offsets [{offsets[0]}, {offsets[1]}] give {offsets[1] - offsets[0]:N0}");
        return new SafeTensorEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    // A JSON array of non-negative integers that fit an int64 (count elements when given).
    static long[] Integers(JsonElement entry, string key, string where, int? count)
    {
        string expected = count is { } c ? $"a list of {c} integers >= 0" : "a list of integers >= 0";
        if (!entry.TryGetProperty(key, out var node) || node.ValueKind != JsonValueKind.Array || (count is { } k && node.GetArrayLength() != k))
            throw new DistillSharpException($"{where}: {key} must be {expected}, got {Raw(entry, key)}");
        var values = new long[node.GetArrayLength()];
        int i = 0;
        foreach (var item in node.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
                throw new DistillSharpException($"{where}: {key} must be {expected}, got {node.GetRawText()}");
            values[i++] = v;
        }
        return values;
    }

    static string Raw(JsonElement entry, string key) => entry.TryGetProperty(key, out var v) ? v.GetRawText() : "nothing";

    static void CheckTiling(List<SafeTensorEntry> tensors, long dataLength, string path)
    {
        var ordered = tensors.OrderBy(t => t.Begin).ThenBy(t => t.End).ToList();
        long end = 0;
        string previous = "";
        foreach (var t in ordered)
        {
            if (t.End > dataLength)
                throw new DistillSharpException($"{path}: tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] end past the {dataLength:N0} data bytes (truncated file?)");
            if (t.Begin < end)
                throw new DistillSharpException($"{path}: tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] overlap tensor '{previous}' (which ends at {end}); every byte belongs to one tensor");
            if (t.Begin > end)
                throw new DistillSharpException($"{path}: tensor '{t.Name}': data_offsets [{t.Begin}, {t.End}] leave bytes {end}..{t.Begin} unused{(previous.Length > 0 ? $" after tensor '{previous}'" : "")}; the data must be contiguous");
            end = t.End;
            previous = t.Name;
        }
        if (end != dataLength)
            throw new DistillSharpException($"{path}: {dataLength - end:N0} bytes after the last tensor{(previous.Length > 0 ? $" '{previous}'" : "")} belong to no tensor (not a safetensors file, or a corrupted one)");
    }
}

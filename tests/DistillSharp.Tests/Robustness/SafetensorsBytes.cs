using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace DistillSharp.Tests.Robustness;

/// <summary>A safetensors file taken apart for corruption: its header JSON and its data bytes.</summary>
public sealed class SafetensorsBytes
{
    SafetensorsBytes(JsonObject header, byte[] data)
    {
        Header = header;
        Data = data;
    }

    /// <summary>The header, editable.</summary>
    public JsonObject Header { get; }
    /// <summary>The bytes after the header.</summary>
    public byte[] Data { get; set; }

    /// <summary>Tensor names in data order.</summary>
    public IReadOnlyList<string> Tensors => Header.Where(kv => kv.Key != "__metadata__")
        .OrderBy(kv => kv.Value!["data_offsets"]![0]!.GetValue<long>()).Select(kv => kv.Key).ToList();

    /// <summary>The entry of tensor <paramref name="name"/>.</summary>
    public JsonObject this[string name] => Header[name]!.AsObject();

    /// <summary>Reads <paramref name="file"/> (a valid file written by the library).</summary>
    public static SafetensorsBytes Parse(byte[] file)
    {
        int n = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(file));
        return new SafetensorsBytes(JsonNode.Parse(Encoding.UTF8.GetString(file, 8, n))!.AsObject(), file[(8 + n)..]);
    }

    /// <summary>The file again, from <paramref name="headerText"/> (default: the edited header).</summary>
    public byte[] ToBytes(string? headerText = null)
    {
        byte[] json = Encoding.UTF8.GetBytes(headerText ?? Header.ToJsonString());
        return Assemble((ulong)json.Length, json, Data);
    }

    /// <summary>Length prefix, header bytes and data, with no checks.</summary>
    public static byte[] Assemble(ulong headerLength, byte[] header, byte[] data)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, headerLength);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>Data offsets of tensor <paramref name="name"/>.</summary>
    public (long Begin, long End) Offsets(string name)
    {
        var o = this[name]["data_offsets"]!.AsArray();
        return (o[0]!.GetValue<long>(), o[1]!.GetValue<long>());
    }

    /// <summary>Sets the data offsets of tensor <paramref name="name"/>.</summary>
    public void SetOffsets(string name, long begin, long end) => this[name]["data_offsets"] = new JsonArray(begin, end);
}

using System.Runtime.InteropServices;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// What the INT8 encoder and decoder folders share (docs/RUNTIME.md): the file names, the float
/// tensors file and the int8 embedding table file. Each family's file class adds its own
/// <c>*_runtime.json</c> and checks.
/// </summary>
public static class Int8Folder
{
    /// <summary>File names inside an INT8 folder.</summary>
    public const string QuantizedFile = "quantized.safetensors", Fp32File = "fp32.safetensors", ConfigFile = "config.json",
        Int8EmbeddingsFile = "int8_embeddings.safetensors";

    /// <summary>Key of the per-row scales of an int8 table (the values are under the table's own name).</summary>
    public const string ScaleSuffix = "_scale";

    /// <summary>Writes float32 tensors (in name order) with <paramref name="metadata"/>.</summary>
    public static void WriteFloats(string path, IReadOnlyDictionary<string, FloatTensor> tensors, IReadOnlyDictionary<string, string> metadata) =>
        Safetensors.Write(path, tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key,
            new SafeTensor("F32", kv.Value.Shape, MemoryMarshal.AsBytes(kv.Value.Data.AsSpan()).ToArray()))), metadata);

    /// <summary>Reads a file of float32 tensors; any other dtype or a non-finite value is an error naming the tensor.</summary>
    public static Dictionary<string, FloatTensor> ReadFloats(string path)
    {
        var fp32 = new Dictionary<string, FloatTensor>();
        foreach (var (name, e) in Safetensors.Read(path).Tensors)
        {
            if (e.Dtype != "F32") throw new DistillSharpException($"{path}: tensor '{name}' is {e.Dtype} {e.ShapeText}, expected F32");
            e.RequireFinite($"{path}: tensor '{name}'");
            fp32[name] = new FloatTensor(MemoryMarshal.Cast<byte, float>(e.Data).ToArray(), e.Shape);
        }
        return fp32;
    }

    /// <summary>Writes table <paramref name="name"/> (I8 [rows, cols]) and its scales (F32 [rows]).</summary>
    public static void WriteTable(string path, string name, Int8EmbeddingTable table, IReadOnlyDictionary<string, string> metadata) =>
        Safetensors.Write(path, [
            KeyValuePair.Create(name, new SafeTensor("I8", [table.Rows, table.Cols], MemoryMarshal.AsBytes(table.Values.AsSpan()).ToArray())),
            KeyValuePair.Create(name + ScaleSuffix, new SafeTensor("F32", [table.Rows], MemoryMarshal.AsBytes(table.Scales.AsSpan()).ToArray())),
        ], metadata);

    /// <summary>Reads table <paramref name="name"/> (I8 [rows, cols]) and its scales (<paramref name="name"/> + <see cref="ScaleSuffix"/>, F32 [rows], finite and non-negative).</summary>
    public static Int8EmbeddingTable ReadTable(string path, string name)
    {
        var (tensors, _) = Safetensors.Read(path);
        if (!tensors.TryGetValue(name, out var values) || !tensors.TryGetValue(name + ScaleSuffix, out var scales))
            throw new DistillSharpException($"{path}: expected tensors '{name}' and '{name}{ScaleSuffix}', found {string.Join(", ", tensors.Keys)}");
        if (values.Dtype != "I8" || values.Shape.Length != 2)
            throw new DistillSharpException($"{path}: tensor '{name}' is {values.Dtype} {values.ShapeText}, expected I8 [rows, cols]");
        if (scales.Dtype != "F32" || scales.Shape.Length != 1 || scales.Shape[0] != values.Shape[0])
            throw new DistillSharpException($"{path}: tensor '{name}{ScaleSuffix}' is {scales.Dtype} {scales.ShapeText}, expected F32 [{values.Shape[0]}]");
        if (values.Shape[0] > int.MaxValue || values.Shape[1] > int.MaxValue)
            throw new DistillSharpException($"{path}: tensor '{name}' {values.ShapeText} is too large for an embedding table");
        return new Int8EmbeddingTable(MemoryMarshal.Cast<byte, sbyte>(values.Data).ToArray(), MemoryMarshal.Cast<byte, float>(scales.Data).ToArray(),
            (int)values.Shape[0], (int)values.Shape[1]).Validate($"{path}: tensor '{name}'", (int)values.Shape[0], (int)values.Shape[1]);
    }
}

using DistillSharp.Runtime.Formats;
using System.Globalization;
using System.Runtime.InteropServices;

namespace DistillSharp.Runtime.Quantization;

/// <summary>
/// Saves and loads a <see cref="QuantizedModel"/> as safetensors (layout in docs/QUANTIZATION.md):
/// <c>&lt;layer&gt;.weight</c> I8 [out, in] (8-bit) or U8 [out, ceil(in/2)] packed nibbles (4-bit),
/// <c>&lt;layer&gt;.weight_scale</c> F32 [out], <c>&lt;layer&gt;.bias</c> F32 [out] (optional),
/// <c>&lt;layer&gt;.input_scale</c> F32 [1] and <c>&lt;layer&gt;.input_zero_point</c> I32 [1] (static only);
/// metadata: format, format_version, weight_bits, activation_bits, activation_scheme,
/// activation_mode, observer, and in_features.&lt;layer&gt; for 4-bit layers.
/// </summary>
public static class QuantizedModelFile
{
    /// <summary>Value of the "format" metadata key.</summary>
    public const string Format = "distillsharp-quantized-linear";

    /// <summary>Value of the "format_version" metadata key.</summary>
    public const string Version = "1";

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/>.</summary>
    public static void Save(QuantizedModel model, string path)
    {
        var meta = new Dictionary<string, string>
        {
            ["format"] = Format, ["format_version"] = Version,
            ["weight_bits"] = Str(model.WeightBits), ["activation_bits"] = Str(model.ActivationBits),
            ["activation_scheme"] = model.ActivationSymmetric ? "symmetric" : "asymmetric",
            ["activation_mode"] = QuantRecipes.ModeName(model.Mode),
            ["recipe"] = model.Recipe.Name,
            ["observer"] = model.Observer,
        };
        var tensors = new List<KeyValuePair<string, SafeTensor>>();
        foreach (var layer in model.Layers.Values.OrderBy(l => l.Name, StringComparer.Ordinal))
        {
            layer.Validate(model.WeightBits);
            var n = layer.Name;
            if (model.WeightBits == 4)
            {
                var packed = Int4Packing.Pack(layer.Weight.Select(v => (int)v).ToArray(), layer.OutFeatures, layer.InFeatures, signed: true);
                Add(tensors, $"{n}.weight", "U8", [layer.OutFeatures, Int4Packing.PackedRowBytes(layer.InFeatures)], packed);
                meta[$"in_features.{n}"] = Str(layer.InFeatures);
            }
            else
            {
                Add(tensors, $"{n}.weight", "I8", [layer.OutFeatures, layer.InFeatures], MemoryMarshal.AsBytes(layer.Weight.AsSpan()).ToArray());
            }
            Add(tensors, $"{n}.weight_scale", "F32", [layer.OutFeatures], Bytes(layer.WeightScale));
            if (layer.Bias is not null) Add(tensors, $"{n}.bias", "F32", [layer.OutFeatures], Bytes(layer.Bias));
            if (layer.InputScale is float s)
            {
                Add(tensors, $"{n}.input_scale", "F32", [1], Bytes([s]));
                Add(tensors, $"{n}.input_zero_point", "I32", [1], MemoryMarshal.AsBytes(new[] { layer.InputZeroPoint!.Value }.AsSpan()).ToArray());
            }
        }
        Safetensors.Write(path, tensors, meta);
    }

    /// <summary>Reads a file written by <see cref="Save"/>; a mismatched tensor is named with its shapes.</summary>
    public static QuantizedModel Load(string path)
    {
        var (tensors, meta) = Safetensors.Read(path);
        if (!meta.TryGetValue("format", out var format) || format != Format)
            throw new DistillSharpException($"{path}: metadata format is '{format}', expected '{Format}'");
        var weightBits = Int(meta, "weight_bits", path);
        var model = new QuantizedModel(new Dictionary<string, QuantizedLinearWeights>(), weightBits, Int(meta, "activation_bits", path),
            Get(meta, "activation_scheme", path) == "symmetric",
            QuantRecipes.ParseMode(Get(meta, "activation_mode", path), $"{path}: metadata activation_mode"),
            Get(meta, "observer", path));
        _ = QuantRecipes.Of(model.WeightBits, model.ActivationBits, model.Mode, model.ActivationSymmetric, path);
        var layers = (Dictionary<string, QuantizedLinearWeights>)model.Layers;
        var used = new HashSet<string>();
        foreach (var scaleKey in tensors.Keys.Where(k => k.EndsWith(".weight_scale", StringComparison.Ordinal)).ToList())
        {
            var name = scaleKey[..^".weight_scale".Length];
            var layer = ReadLayer(path, name, tensors, meta, weightBits, used);
            try
            {
                layers[name] = layer.Validate(weightBits);
            }
            catch (DistillSharpException e)
            {
                throw new DistillSharpException($"{path}: {e.Message}", e);
            }
        }
        var unknown = tensors.Keys.Where(k => !used.Contains(k)).ToList();
        if (unknown.Count > 0)
            throw new DistillSharpException($"{path}: tensors without a matching <layer>.weight_scale: {string.Join(", ", unknown)}");
        if (model.Mode == ActivationMode.Static && model.ActivationBits != 0 && layers.Values.FirstOrDefault(l => l.InputScale is null) is { } missing)
            throw new DistillSharpException($"{path}: static activations but '{missing.Name}.input_scale' is missing");
        return model;
    }

    private static QuantizedLinearWeights ReadLayer(string path, string name, Dictionary<string, SafeTensor> t,
        Dictionary<string, string> meta, int bits, HashSet<string> used)
    {
        var scale = Take(t, $"{name}.weight_scale", "F32", path, used);
        if (scale.Shape.Length != 1) throw Mismatch(path, $"{name}.weight_scale", scale, "[out]");
        var rows = (int)scale.Shape[0];
        var w = Take(t, $"{name}.weight", bits == 4 ? "U8" : "I8", path, used);
        int cols;
        sbyte[] weight;
        if (bits == 4)
        {
            cols = Int(meta, $"in_features.{name}", path);
            if (w.Shape.Length != 2 || w.Shape[0] != rows || w.Shape[1] != Int4Packing.PackedRowBytes(cols))
                throw Mismatch(path, $"{name}.weight", w, $"[{rows}, {Int4Packing.PackedRowBytes(cols)}] (4-bit packed, in_features {cols}, rows from {name}.weight_scale)");
            weight = Int4Packing.Unpack(w.Data, rows, cols, signed: true).Select(v => (sbyte)v).ToArray();
        }
        else
        {
            if (w.Shape.Length != 2 || w.Shape[0] != rows)
                throw Mismatch(path, $"{name}.weight", w, $"[{rows}, in] (rows from {name}.weight_scale {scale.ShapeText})");
            cols = (int)w.Shape[1];
            weight = MemoryMarshal.Cast<byte, sbyte>(w.Data).ToArray();
        }
        float[]? bias = null;
        if (t.ContainsKey($"{name}.bias"))
        {
            var b = Take(t, $"{name}.bias", "F32", path, used);
            if (b.Shape.Length != 1 || b.Shape[0] != rows) throw Mismatch(path, $"{name}.bias", b, $"[{rows}]");
            bias = MemoryMarshal.Cast<byte, float>(b.Data).ToArray();
        }
        float? inputScale = null;
        int? inputZero = null;
        if (t.ContainsKey($"{name}.input_scale") || t.ContainsKey($"{name}.input_zero_point"))
        {
            var s = Take(t, $"{name}.input_scale", "F32", path, used);
            var z = Take(t, $"{name}.input_zero_point", "I32", path, used);
            if (s.Shape.Aggregate(1L, (a, d) => a * d) != 1) throw Mismatch(path, $"{name}.input_scale", s, "[1]");
            if (z.Shape.Aggregate(1L, (a, d) => a * d) != 1) throw Mismatch(path, $"{name}.input_zero_point", z, "[1]");
            inputScale = BitConverter.ToSingle(s.Data);
            inputZero = BitConverter.ToInt32(z.Data);
        }
        return new QuantizedLinearWeights(name, rows, cols, weight, MemoryMarshal.Cast<byte, float>(scale.Data).ToArray(), bias, inputScale, inputZero);
    }

    private static SafeTensor Take(Dictionary<string, SafeTensor> t, string key, string dtype, string path, HashSet<string> used)
    {
        if (!t.TryGetValue(key, out var e)) throw new DistillSharpException($"{path}: tensor '{key}' is missing");
        if (e.Dtype != dtype) throw new DistillSharpException($"{path}: tensor '{key}' is {e.Dtype} {e.ShapeText}, expected dtype {dtype}");
        used.Add(key);
        return e;
    }

    private static DistillSharpException Mismatch(string path, string key, SafeTensor e, string expected) =>
        new($"{path}: tensor '{key}' has shape {e.ShapeText}, expected {expected}");

    private static void Add(List<KeyValuePair<string, SafeTensor>> list, string key, string dtype, long[] shape, byte[] data) =>
        list.Add(KeyValuePair.Create(key, new SafeTensor(dtype, shape, data)));

    private static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    private static string Str(int v) => v.ToString(CultureInfo.InvariantCulture);

    private static string Get(Dictionary<string, string> meta, string key, string path) =>
        meta.TryGetValue(key, out var v) ? v : throw new DistillSharpException($"{path}: metadata key '{key}' is missing");

    private static int Int(Dictionary<string, string> meta, string key, string path) =>
        int.TryParse(Get(meta, key, path), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
            : throw new DistillSharpException($"{path}: metadata '{key}' = '{meta[key]}' is not an integer");
}

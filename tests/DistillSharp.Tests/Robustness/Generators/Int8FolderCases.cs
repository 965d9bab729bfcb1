using System.Buffers.Binary;
using System.Text.Json.Nodes;
using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// The INT8 runtime's folder and its size arguments (bench --runtime int8): int8_runtime.json of the
/// wrong kind, quantized tensors with NaN, negative or zero scales and out-of-range int8 values, and
/// batch × sequence sizes that once overran the kernels' buffers (AccessViolationException).
/// </summary>
public sealed class Int8FolderCases : IBadInputGenerator
{
    public string Category => "int8";

    static string[] Bench(string model, params string[] extra) =>
        ["bench", "--model", model, "--runtime", "int8", .. (extra.Length > 0 ? extra : ["--batch", "1", "--seq", "8"]), "--runs", "1"];

    // Rewrites one F32/I8 tensor of a safetensors file in place.
    static void Tensor(string path, Func<SafetensorsBytes, string> pick, Action<Span<byte>> write)
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        var (begin, end) = st.Offsets(pick(st));
        write(st.Data.AsSpan((int)begin, (int)(end - begin)));
        File.WriteAllBytes(path, st.ToBytes());
    }

    static string Scale(SafetensorsBytes st) => st.Tensors.First(t => t.EndsWith(".weight_scale", StringComparison.Ordinal));
    static string Weight(SafetensorsBytes st) => st.Tensors.First(t => t.EndsWith(".weight", StringComparison.Ordinal));

    static IEnumerable<(string Name, Action<string> Edit, string Culprit)> FolderEdits()
    {
        string Runtime(string d) => Path.Combine(d, "int8_runtime.json");
        string Quantized(string d) => Path.Combine(d, "quantized.safetensors");
        yield return ("int8_runtime.json not JSON", d => File.WriteAllText(Runtime(d), "{"), "int8_runtime.json");
        yield return ("int8_runtime.json an array", d => File.WriteAllText(Runtime(d), "[]"), "int8_runtime.json");
        yield return ("format unknown", d => SetKey(Runtime(d), "format", "\"onnx\""), "format");
        yield return ("format_version 9", d => SetKey(Runtime(d), "format_version", "\"9\""), "version");
        yield return ("format_version a number", d => SetKey(Runtime(d), "format_version", "2"), "format_version");
        yield return ("pooling unknown", d => SetKey(Runtime(d), "pooling", "\"max\""), "pooling");
        yield return ("max_seq_length a string", d => SetKey(Runtime(d), "max_seq_length", "\"32\""), "max_seq_length");
        yield return ("max_seq_length past the positions", d => SetKey(Runtime(d), "max_seq_length", "100000"), "max_seq_length");
        yield return ("max_seq_length 1", d => SetKey(Runtime(d), "max_seq_length", "1"), "max_seq_length");
        yield return ("do_lower_case a string", d => SetKey(Runtime(d), "do_lower_case", "\"yes\""), "do_lower_case");
        yield return ("normalize a number", d => SetKey(Runtime(d), "normalize", "1"), "normalize");
        yield return ("negative weight scale", d => Tensor(Quantized(d), Scale, s => BinaryPrimitives.WriteSingleLittleEndian(s, -0.01f)), "weight_scale");
        yield return ("zero weight scale", d => Tensor(Quantized(d), Scale, s => BinaryPrimitives.WriteSingleLittleEndian(s, 0f)), "weight_scale");
        yield return ("infinite weight scale", d => Tensor(Quantized(d), Scale, s => BinaryPrimitives.WriteSingleLittleEndian(s, float.PositiveInfinity)), "weight_scale");
        yield return ("weight value -128", d => Tensor(Quantized(d), Weight, s => s[0] = 0x80), "-128");
        yield return ("weight_bits not a number", d => EditMetadata(Quantized(d), "weight_bits", "eight"), "weight_bits");
        yield return ("weight_bits 16", d => EditMetadata(Quantized(d), "weight_bits", "16"), "weight_bits");
        yield return ("metadata format wrong", d => EditMetadata(Quantized(d), "format", "gguf"), "format");
        yield return ("a layer missing", d => Remove(Quantized(d), st => st.Tensors.Where(t => t.StartsWith("encoder.layer.0.attention.self.query.", StringComparison.Ordinal))), "encoder.layer.0.attention.self.query");
        yield return ("fp32 LayerNorm in F16", d => Retype(Path.Combine(d, "fp32.safetensors"), "embeddings.LayerNorm.weight"), "embeddings.LayerNorm.weight");
        yield return ("fp32 tensor missing", d => Remove(Path.Combine(d, "fp32.safetensors"), _ => ["embeddings.LayerNorm.bias"]), "embeddings.LayerNorm.bias");
        yield return ("int8 embedding scales negative", d => Tensor(Path.Combine(d, "int8_embeddings.safetensors"), st => st.Tensors.First(t => t.EndsWith("_scale", StringComparison.Ordinal)),
            s => BinaryPrimitives.WriteSingleLittleEndian(s, -1f)), "scales");
        yield return ("quantized.safetensors missing", d => File.Delete(Quantized(d)), "quantized.safetensors");
    }

    static void EditMetadata(string path, string key, string value)
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        st.Header["__metadata__"]![key] = value;
        File.WriteAllBytes(path, st.ToBytes());
    }

    // Removes tensors and closes the gaps they leave, so that only the missing names are wrong.
    static void Remove(string path, Func<SafetensorsBytes, IEnumerable<string>> names)
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        var gone = names(st).ToHashSet();
        var data = new List<byte>();
        foreach (string t in st.Tensors)
        {
            var (b, e) = st.Offsets(t);
            if (gone.Contains(t)) { st.Header.Remove(t); continue; }
            st.SetOffsets(t, data.Count, data.Count + (e - b));
            data.AddRange(st.Data.AsSpan((int)b, (int)(e - b)).ToArray());
        }
        st.Data = [.. data];
        File.WriteAllBytes(path, st.ToBytes());
    }

    // Relabels an F32 tensor as F16 with half the elements' bytes kept consistent (shape doubled).
    static void Retype(string path, string name)
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        st[name]["dtype"] = "F16";
        var shape = st[name]["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
        shape[^1] *= 2;
        st[name]["shape"] = new JsonArray(shape.Select(x => (JsonNode)x).ToArray());
        File.WriteAllBytes(path, st.ToBytes());
    }

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        foreach (var (name, edit, culprit) in FolderEdits())
            yield return Case(Category, name, dir =>
            {
                string model = CopyModel(m.Int8Dir, dir);
                edit(model);
                return Bench(model);
            }, culprit);
        var sizes = new (string Name, string[] Args, string Culprit)[]
        {
            ("--batch 100000 --seq 512", ["--batch", "100000", "--seq", "512"], "--batch"),
            ("--batch 65537", ["--batch", "65537", "--seq", "8"], "--batch"),
            ("--batch 0", ["--batch", "0"], "--batch"),
            ("--batch -5", ["--batch", "-5"], "--batch"),
            ("--seq 0", ["--batch", "1", "--seq", "0"], "--seq"),
            ("--seq 2", ["--batch", "1", "--seq", "2"], "--seq"),
            ("--seq 513", ["--batch", "1", "--seq", "513"], "--seq"),
            ("--seq 100000", ["--batch", "1", "--seq", "100000"], "--seq"),
            ("--seq 128 past the positions", ["--batch", "1", "--seq", "128"], "128"),
            ("--threads 0", ["--batch", "1", "--threads", "0"], "--threads"),
            ("--threads 100000", ["--batch", "1", "--threads", "100000"], "--threads"),
            ("--batch not a number", ["--batch", "many"], "many"),
        };
        foreach (var (name, args, culprit) in sizes)
            yield return Case(Category, name, _ => Bench(m.Int8Dir, args), culprit);
        yield return Case(Category, "--runs 0", _ => ["bench", "--model", m.Int8Dir, "--runtime", "int8", "--runs", "0"], "--runs");
    }
}

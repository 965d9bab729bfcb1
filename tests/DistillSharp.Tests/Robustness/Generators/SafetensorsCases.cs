using System.Buffers.Binary;
using System.Text.Json.Nodes;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// Corrupted safetensors files: every mutation of the header, offsets and data that a truncated
/// download, a hostile file or a wrong tool can produce, applied to the encoder's model.safetensors
/// (all of them) and to the INT8 folder's and the decoder's files (a sample).
/// </summary>
public sealed class SafetensorsCases : IBadInputGenerator
{
    /// <summary>Changes the file at its path in place; returns the tensor the error must name, if any.</summary>
    public sealed record Mutation(string Name, Func<string, string?> Apply);

    public string Category => "safetensors";

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        var all = Mutations().ToList();
        var sample = new HashSet<string>
        {
            "empty file", "header length past the end", "header length 2^63", "header is an array", "truncated data",
            "data_offsets as strings", "data_offsets 2^63", "aliased offsets", "overlapping offsets", "duplicate tensor name",
            "shape does not match the bytes", "metadata value not a string", "symlink to /dev/zero", "NaN values", "named pipe",
        };
        foreach (var mutation in all)
            yield return Case(m, "encoder model.safetensors", mutation, m.EncoderDir, "model.safetensors", dir => ["embed", "--model", dir, "hello"]);
        foreach (var mutation in all.Where(x => sample.Contains(x.Name)))
        {
            yield return Case(m, "int8 fp32.safetensors", mutation, m.Int8Dir, "fp32.safetensors", Bench);
            yield return Case(m, "int8 quantized.safetensors", mutation, m.Int8Dir, "quantized.safetensors", Bench);
            yield return Case(m, "decoder model.safetensors", mutation, m.DecoderDir, "model.safetensors",
                dir => ["generate", "--model", dir, "--prompt", "a", "--max-new-tokens", "1"]);
        }
    }

    static string[] Bench(string dir) => ["bench", "--model", dir, "--runtime", "int8", "--batch", "1", "--seq", "8", "--runs", "1"];

    BadInputCase Case(RobustnessModels m, string target, Mutation mutation, string source, string file, Func<string, string[]> args)
    {
        string? tensor = null;
        var culprits = new List<string> { file };
        return new BadInputCase(Category, $"{target}: {mutation.Name}", dir =>
        {
            string copy = RobustnessModels.Copy(source, Path.Combine(dir, "model"));
            tensor = mutation.Apply(Path.Combine(copy, file));
            if (tensor is not null) culprits.Add(tensor);
            return new CliCall(args(copy));
        }, culprits);
    }

    static Mutation Bytes(string name, Func<byte[], byte[]> f) => new(name, path =>
    {
        File.WriteAllBytes(path, f(File.ReadAllBytes(path)));
        return null;
    });

    // Edits the header of the first (or a chosen) tensor; the error must name that tensor.
    static Mutation Entry(string name, Action<SafetensorsBytes, string> edit, Func<SafetensorsBytes, string>? pick = null) => new(name, path =>
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        string tensor = pick?.Invoke(st) ?? st.Tensors[0];
        edit(st, tensor);
        File.WriteAllBytes(path, st.ToBytes());
        return tensor;
    });

    static Mutation Header(string name, Func<SafetensorsBytes, string> text) => new(name, path =>
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        File.WriteAllBytes(path, st.ToBytes(text(st)));
        return null;
    });

    static byte[] WithLength(byte[] file, ulong length)
    {
        var copy = file.ToArray();
        BinaryPrimitives.WriteUInt64LittleEndian(copy, length);
        return copy;
    }

    // A tensor of float data (F32), for the non-finite values.
    static string FloatTensor(SafetensorsBytes st) =>
        st.Tensors.FirstOrDefault(t => st[t]["dtype"]!.GetValue<string>() == "F32" && t.EndsWith("weight_scale")) ??
        st.Tensors.First(t => st[t]["dtype"]!.GetValue<string>() == "F32");

    // Two tensors of equal byte size that are not neighbours.
    static (string A, string B) SameSize(SafetensorsBytes st)
    {
        var t = st.Tensors;
        for (int i = 0; i < t.Count; i++)
            for (int j = i + 2; j < t.Count; j++)
            {
                var (a0, a1) = st.Offsets(t[i]);
                var (b0, b1) = st.Offsets(t[j]);
                if (a1 - a0 == b1 - b0 && a1 > a0) return (t[i], t[j]);
            }
        throw new InvalidOperationException("no two tensors of equal size");
    }

    static void Fill(string path, string tensor, float value)
    {
        var st = SafetensorsBytes.Parse(File.ReadAllBytes(path));
        var (begin, end) = st.Offsets(tensor);
        for (long i = begin; i + 4 <= end; i += 4) BinaryPrimitives.WriteSingleLittleEndian(st.Data.AsSpan((int)i), value);
        File.WriteAllBytes(path, st.ToBytes());
    }

    static IEnumerable<Mutation> Mutations()
    {
        yield return Bytes("empty file", _ => []);
        yield return Bytes("7 bytes", f => f[..7]);
        yield return Bytes("header length 0", f => WithLength(f, 0));
        yield return Bytes("header length past the end", f => WithLength(f, (ulong)f.Length));
        yield return Bytes("header length 2^63", f => WithLength(f, 1UL << 63));
        yield return Bytes("header length 2^64-1", f => WithLength(f, ulong.MaxValue));
        yield return Bytes("truncated inside the header", f => f[..(8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(f) / 2)]);
        yield return Bytes("truncated data", f => f[..^100]);
        yield return Bytes("bytes after the last tensor", f => [.. f, .. new byte[16]]);
        yield return Header("header not JSON", _ => "{\"a\": [1, 2,");
        yield return Header("header is an array", _ => "[1, 2, 3]");
        yield return Header("header is a string", _ => "\"tensors\"");
        yield return Bytes("header not UTF-8", f =>
        {
            var c = f.ToArray();
            c[9] = 0xff;
            c[10] = 0xfe;
            return c;
        });
        yield return Entry("entry is a string", (st, t) => st.Header[t] = "x");
        yield return Entry("dtype missing", (st, t) => st[t].Remove("dtype"));
        yield return Entry("dtype unknown", (st, t) => st[t]["dtype"] = "F8_E4M3");
        yield return Entry("dtype a number", (st, t) => st[t]["dtype"] = 4);
        yield return Entry("shape missing", (st, t) => st[t].Remove("shape"));
        yield return Entry("shape negative", (st, t) => st[t]["shape"] = new JsonArray(-1, 32));
        yield return Entry("shape of strings", (st, t) => st[t]["shape"] = new JsonArray("35", "32"));
        yield return Entry("shape fractional", (st, t) => st[t]["shape"] = new JsonArray(1.5, 32));
        yield return Entry("shape product overflows", (st, t) => st[t]["shape"] = new JsonArray(1L << 40, 1L << 40));
        yield return Entry("shape does not match the bytes", (st, t) =>
        {
            var shape = st[t]["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
            shape[^1] += 1;
            st[t]["shape"] = new JsonArray(shape.Select(x => (JsonNode)x).ToArray());
        });
        yield return Entry("data_offsets missing", (st, t) => st[t].Remove("data_offsets"));
        yield return Entry("data_offsets as strings", (st, t) =>
        {
            var (b, e) = st.Offsets(t);
            st[t]["data_offsets"] = new JsonArray(b.ToString(), e.ToString());
        });
        yield return Entry("data_offsets 2^63", (st, t) => st[t]["data_offsets"] = JsonNode.Parse("[0, 9223372036854775808]"));
        yield return Entry("data_offsets three numbers", (st, t) => st[t]["data_offsets"] = new JsonArray(0, 4, 8));
        yield return Entry("data_offsets reversed", (st, t) =>
        {
            var (b, e) = st.Offsets(t);
            st.SetOffsets(t, e, b);
        });
        yield return Entry("aliased offsets", (st, t) =>
        {
            var (a, _) = SameSize(st);
            var (b, e) = st.Offsets(a);
            st.SetOffsets(t, b, e);
        }, st => SameSize(st).B);
        yield return Entry("overlapping offsets", (st, t) =>
        {
            var (b, e) = st.Offsets(t);
            st.SetOffsets(t, b - 4, e - 4);
        }, st => st.Tensors[1]);
        yield return Entry("hole before a tensor", (st, t) =>
        {
            var (b, e) = st.Offsets(t);
            st.SetOffsets(t, b + 4, e + 4);
            st.Data = [.. st.Data, 0, 0, 0, 0];
        }, st => st.Tensors[^1]);
        yield return Header("duplicate tensor name", st =>
        {
            var names = st.Tensors;
            string text = st.Header.ToJsonString();
            return text.Replace($"\"{names[1]}\":", $"\"{names[0]}\":");
        });
        yield return Header("metadata value not a string", st =>
        {
            st.Header["__metadata__"] = new JsonObject { ["format"] = 7 };
            return st.Header.ToJsonString();
        });
        yield return Header("metadata an array", st =>
        {
            st.Header["__metadata__"] = new JsonArray("pt");
            return st.Header.ToJsonString();
        });
        yield return new Mutation("NaN values", path =>
        {
            string t = FloatTensor(SafetensorsBytes.Parse(File.ReadAllBytes(path)));
            Fill(path, t, float.NaN);
            return t;
        });
        yield return new Mutation("infinite values", path =>
        {
            string t = FloatTensor(SafetensorsBytes.Parse(File.ReadAllBytes(path)));
            Fill(path, t, float.PositiveInfinity);
            return t;
        });
        yield return new Mutation("symlink to /dev/zero", path =>
        {
            File.Delete(path);
            File.CreateSymbolicLink(path, "/dev/zero");
            return null;
        });
        yield return new Mutation("a folder in its place", path =>
        {
            File.Delete(path);
            Directory.CreateDirectory(path);
            return null;
        });
        yield return new Mutation("named pipe", path =>
        {
            File.Delete(path);
            using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
            p.WaitForExit();
            return null;
        });
        yield return new Mutation("sparse 3 GB file", path =>
        {
            using var s = new FileStream(path, FileMode.Open);
            s.SetLength(3L << 30);
            return null;
        });
        yield return Bytes("random bytes", f =>
        {
            var r = new Random(7);
            var c = new byte[f.Length];
            r.NextBytes(c);
            return c;
        });
        yield return Header("header text with a NUL", st => st.Header.ToJsonString() + "\0\0");
    }
}

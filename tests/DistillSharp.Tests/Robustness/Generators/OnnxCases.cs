using Google.Protobuf;
using Onnx;
using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// ONNX files: truncated, random, empty, of the wrong kind, too large, and with weights in external
/// files — inside the model's folder (the layout of every model over 2 GB: must work, in the importer
/// and in ONNX Runtime) and leaving it (must be refused before anything outside is opened).
/// </summary>
public sealed class OnnxCases : IBadInputGenerator
{
    public string Category => "onnx";

    static string[] Embed(string onnx) => ["embed", "--model", onnx, "hello"];
    static string[] Bench(string onnx) => ["bench", "--model", onnx, "--runtime", "onnx", "--batch", "1", "--seq", "8", "--runs", "1"];

    // The tiny model with every initializer of 64 bytes or more moved to an external file named
    // by locate(), which also says where the file goes (relative to the model folder).
    static void External(string model, Func<string, (string Location, string File)> locate, Func<long, long>? offset = null)
    {
        var proto = ModelProto.Parser.ParseFrom(File.ReadAllBytes(model));
        string folder = Path.GetDirectoryName(model)!;
        var (location, file) = locate(folder);
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        using (var data = new FileStream(file, FileMode.Create))
        {
            foreach (var t in proto.Graph.Initializer.Where(t => t.RawData.Length >= 64))
            {
                long at = data.Position;
                t.RawData.WriteTo(data);
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
                t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = (offset?.Invoke(at) ?? at).ToString() });
                t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = t.RawData.Length.ToString() });
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.RawData = ByteString.Empty;
            }
        }
        File.WriteAllBytes(model, proto.ToByteArray());
    }

    static byte[] Adder()
    {
        var graph = new GraphProto { Name = "adder" };
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "x" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        return model.ToByteArray();
    }

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        string Copy(string dir) => Path.Combine(CopyModel(m.OnnxDir, dir), "model.onnx");
        var edits = new (string Name, Action<string> Edit, string Culprit)[]
        {
            ("truncated", p => File.WriteAllBytes(p, File.ReadAllBytes(p)[..(int)(new FileInfo(p).Length / 2)]), "model.onnx"),
            ("random bytes", p => { var b = new byte[4096]; new Random(3).NextBytes(b); File.WriteAllBytes(p, b); }, "model.onnx"),
            ("empty", p => File.WriteAllBytes(p, []), "model.onnx"),
            ("7 bytes", p => File.WriteAllBytes(p, [8, 7, 18, 3, 1, 2, 3]), "model.onnx"),
            ("a graph of the wrong kind", p => File.WriteAllBytes(p, Adder()), "model.onnx"),
            ("symlink to /dev/zero", p => Link(p, "/dev/zero"), "model.onnx"),
            ("sparse 3 GB", p => Sparse(p, 3L << 30), "model.onnx"),
            ("external data leaving the folder", p => External(p, f => ("../outside.bin", Path.Combine(f, "..", "outside.bin"))), "leaves"),
            ("external data at an absolute path", p => External(p, f => (Path.Combine(f, "..", "abs.bin"), Path.Combine(f, "..", "abs.bin"))), "leaves"),
            ("external data through a link out of the folder", p =>
            {
                External(p, f => ("weights.bin", Path.Combine(f, "..", "real.bin")));
                Link(Path.Combine(Path.GetDirectoryName(p)!, "weights.bin"), Path.Combine(Path.GetDirectoryName(p)!, "..", "real.bin"));
            }, "leaves"),
            ("external data file missing", p =>
            {
                External(p, f => ("weights.bin", Path.Combine(f, "weights.bin")));
                File.Delete(Path.Combine(Path.GetDirectoryName(p)!, "weights.bin"));
            }, "weights.bin"),
            ("external data offset past the file", p => External(p, f => ("weights.bin", Path.Combine(f, "weights.bin")), at => at + 1_000_000_000), "weights.bin"),
            ("external data offset negative", p => External(p, f => ("weights.bin", Path.Combine(f, "weights.bin")), _ => -8), "offset"),
            ("vocab.txt missing", p => File.Delete(Path.Combine(Path.GetDirectoryName(p)!, "vocab.txt")), "vocab.txt"),
            ("vocab.txt larger than the graph", p => File.AppendAllLines(Path.Combine(Path.GetDirectoryName(p)!, "vocab.txt"),
                Enumerable.Range(0, 500).Select(i => $"more{i}")), "vocab"),
        };
        foreach (var (name, edit, culprit) in edits)
        {
            yield return Case(Category, "embed: " + name, dir =>
            {
                string onnx = Copy(dir);
                edit(onnx);
                return Embed(onnx);
            }, culprit);
            yield return Case(Category, "bench onnx: " + name, dir =>
            {
                string onnx = Copy(dir);
                edit(onnx);
                return Bench(onnx);
            }, culprit);
        }
        yield return Works(Category, "embed: external data inside the folder", dir =>
        {
            string onnx = Copy(dir);
            External(onnx, f => ("weights.bin", Path.Combine(f, "weights.bin")));
            return Embed(onnx);
        });
        yield return Works(Category, "bench onnx: external data inside the folder", dir =>
        {
            string onnx = Copy(dir);
            External(onnx, f => ("data/weights.bin", Path.Combine(f, "data", "weights.bin")));
            return Bench(onnx);
        });
    }
}

using Google.Protobuf;
using Onnx;
using DistillSharp.Models.Encoder;

namespace DistillSharp.Tests.Models;

/// <summary>Bad models give exit code 2 and one message that names the file (and the tensor, where there is one).</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class BadModelInputTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("badmodel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static (int Code, string Error) RunCli(params string[] args)
    {
        var (code, _, error) = CliHarness.Run(args);
        return (code, error);
    }

    [Fact]
    public void OnnxThatIsNotABertEncoder()
    {
        var graph = new GraphProto { Name = "adder" };
        graph.Input.Add(new ValueInfoProto { Name = "x" });
        graph.Output.Add(new ValueInfoProto { Name = "y" });
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "x" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 7, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Version = 13 });
        string path = Path.Combine(_dir, "adder.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        File.WriteAllText(Path.Combine(_dir, "vocab.txt"), TinyModels.Vocab);

        var (code, error) = RunCli("embed", "--model", path, "hello");
        Assert.Equal(2, code);
        Assert.Contains(path, error);
        Assert.Contains("not a BERT-family encoder", error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void FileThatIsNotOnnxAtAll()
    {
        string path = Path.Combine(_dir, "garbage.onnx");
        File.WriteAllBytes(path, [0xff, 0xff, 0xff, 0x01, 0x02]);
        File.WriteAllText(Path.Combine(_dir, "vocab.txt"), TinyModels.Vocab);
        var (code, error) = RunCli("embed", "--model", path, "hello");
        Assert.Equal(2, code);
        Assert.Contains(path, error);
    }

    [Fact]
    public void MissingModelAndMissingVocab()
    {
        var (code, error) = RunCli("embed", "--model", Path.Combine(_dir, "nothing-here"), "hello");
        Assert.Equal(2, code);
        Assert.Contains("nothing-here", error);

        string onnx = Path.Combine(_dir, "model.onnx");
        File.WriteAllBytes(onnx, [1, 2, 3]);
        (code, error) = RunCli("embed", "--model", onnx, "hello");
        Assert.Equal(2, code);
        Assert.Contains("vocab.txt", error);
    }

    [Fact]
    public void MissingTeacherPackageSaysHowToFetchIt()
    {
        var teacher = BuiltinTeachers.Get("arctic-embed-xs") with { AssemblyName = "No.Such.Assembly", PackageId = "No.Such.Package" };
        var e = Assert.Throws<DistillSharpException>(() => teacher.ReadResources());
        Assert.Contains("No.Such.Package", e.Message);
        Assert.Contains("distill fetch arctic-embed-xs", e.Message);
    }

    [Fact]
    public void UnknownBuiltinListsTheKnownOnes()
    {
        var (code, error) = RunCli("embed", "--model", "builtin:gpt-17", "hello");
        Assert.Equal(2, code);
        Assert.Contains("all-MiniLM-L6-v2", error);
    }
}

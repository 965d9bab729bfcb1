using System.Text.Json.Nodes;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using static DistillSharp.Tests.Export.ExportTestKit;
using DistillSharp.Quantization.Encoder;

namespace DistillSharp.Tests.Benchmarks;

/// <summary>`distill bench` on a tiny run folder in every runtime, and the exit code 2 cases.</summary>
[Collection(ProcessEnvironmentCollection.Name)]
public sealed class BenchCommandTests : IDisposable
{
    readonly string _run = TempDir();

    public BenchCommandTests()
    {
        // A run folder as the pipeline writes it: student/, student-int8/, student.onnx, student-int8.onnx.
        using var student = TinyModels.Encoder(seed: 31);
        var quantized = Runtime.Int8EncoderTests.Ptq(student);
        HuggingFaceFolder.Save(student, Path.Combine(_run, "student"));
        using (var int8 = EncoderToRuntime.Build(student, quantized)) int8.Save(Path.Combine(_run, "student-int8"));
        OnnxExporter.ExportFp32(student, Path.Combine(_run, "student.onnx"));
        OnnxExporter.ExportInt8(student, quantized, Path.Combine(_run, "student-int8.onnx"));
    }

    public void Dispose() => Directory.Delete(_run, recursive: true);

    static (int Code, string Out, string Error) RunCli(params string[] args) => CliHarness.Run(args);

    [Theory]
    [InlineData("int8")]
    [InlineData("onnx")]
    [InlineData("onnx-int8")]
    [InlineData("torch")]
    public void EveryRuntimeRunsTheRunFolder(string runtime)
    {
        // torch: keep libtorch's thread count as it is for the other tests in this process.
        string threads = runtime == "torch" ? TorchSharp.torch.get_num_threads().ToString() : "2";
        var (code, output, error) = RunCli("bench", "--model", _run, "--runtime", runtime, "--batch", "1", "3", "--seq", "8",
            "--runs", "4", "--threads", threads, "--json");
        Assert.True(code == 0, error);
        var report = JsonNode.Parse(output)!.AsObject();
        Assert.Equal(runtime, report["runtime"]!.GetValue<string>());
        Assert.True(report["model_bytes"]!.GetValue<long>() > 0);
        var results = report["results"]!.AsArray();
        Assert.Equal([1, 3], results.Select(r => r!["batch"]!.GetValue<int>()));
        foreach (var r in results)
        {
            Assert.Equal(4, r!["samples_ms"]!.AsArray().Count);
            Assert.True(r["p50_ms"]!.GetValue<double>() <= r["p99_ms"]!.GetValue<double>());
            Assert.True(r["tokens_per_s"]!.GetValue<double>() > 0);
            Assert.True(r["peak_rss_bytes"]!.GetValue<long>() > 0);
        }
    }

    [Fact]
    public void TextOutputIsATable()
    {
        var (code, output, _) = RunCli("bench", "--model", Path.Combine(_run, "student-int8"), "--runtime", "int8", "--batch", "2", "--seq", "6", "--runs", "2");
        Assert.Equal(0, code);
        Assert.Contains("p50 ms", output);
        Assert.Contains("    2    6", output);
    }

    [Theory]
    [InlineData("builtin:all-MiniLM-L6-v2", "int8", "a built-in teacher")]
    [InlineData("builtin:all-MiniLM-L6-v2", "onnx-int8", "built-in teachers ship fp32 ONNX only")]
    [InlineData("{run}/student", "onnx", "a model folder without ONNX")]
    [InlineData("{run}/student", "int8", "a float Hugging Face folder")]
    [InlineData("{run}/student-int8", "torch", "INT8 encoder folder")]
    [InlineData("{run}", "tensorrt", "tensorrt")]
    public void RuntimesTheModelCannotRunExitWith2(string model, string runtime, string message)
    {
        var (code, _, error) = RunCli("bench", "--model", model.Replace("{run}", _run), "--runtime", runtime, "--runs", "1");
        Assert.Equal(2, code);
        Assert.Contains(message, error);
    }
}

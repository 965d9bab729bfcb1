using DistillSharp.Serving.Generation;
using DistillSharp.Cli.Serving;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Tests.Runtime;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>`distill serve --model RUN --runtime R` opens the right part of a run folder, and every runtime embeds alike.</summary>
public sealed class ServedModelsTests : IDisposable
{
    readonly string _run = Directory.CreateTempSubdirectory("serve-run-").FullName;

    public void Dispose() => Directory.Delete(_run, recursive: true);

    static double Cosine(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum() / (Norm(a) * Norm(b));

    [Fact]
    public void EveryRuntimeServesTheRunsStudent()
    {
        using (var encoder = TinyModels.Encoder(seed: 41))
        {
            var quantized = Int8EncoderTests.Ptq(encoder);
            HuggingFaceFolder.Save(encoder, Path.Combine(_run, "student"));
            OnnxExporter.ExportFp32(encoder, Path.Combine(_run, "student.onnx"));
            OnnxExporter.ExportInt8(encoder, quantized, Path.Combine(_run, "student-int8.onnx"));
            using var int8 = EncoderToRuntime.Build(encoder, quantized, threads: 1);
            int8.Save(Path.Combine(_run, "student-int8"));
        }
        var vectors = new Dictionary<string, float[][]>();
        foreach (string runtime in ServedModels.Runtimes)
        {
            using var model = ServedModels.Open(_run, runtime, threads: 1);
            Assert.Equal(runtime, model.Runtime);
            Assert.Equal(32, model.Tokenizer!.MaxTokens);
            var ids = Texts.Select(model.Tokenizer.Encode).ToList();
            vectors[runtime] = model.Embedding!.Embed(ids);
            Assert.Equal(model.Embedding.PadsBatches, runtime != "int8");
        }
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.True(Cosine(vectors["torch"][i], vectors["onnx"][i]) > 0.99999, "onnx vs torch");
            Assert.True(Cosine(vectors["torch"][i], vectors["int8"][i]) > 0.99, "int8 vs torch");
            Assert.True(Cosine(vectors["int8"][i], vectors["onnx-int8"][i]) > 0.99, "onnx-int8 vs int8");
        }
    }

    [Fact]
    public void AnOlderRunFolderWithOnlyQuantizedWeightsServesThroughItsStudent()
    {
        float[] expected;
        using (var encoder = TinyModels.Encoder(seed: 42))
        {
            var quantized = Int8EncoderTests.Ptq(encoder);
            HuggingFaceFolder.Save(encoder, Path.Combine(_run, "student"));
            Directory.CreateDirectory(Path.Combine(_run, "student-int8"));
            DistillSharp.Runtime.Quantization.QuantizedModelFile.Save(quantized, Path.Combine(_run, "student-int8", "quantized.safetensors"));
            using var runtime = EncoderToRuntime.Build(encoder, quantized, threads: 1);
            expected = runtime.Embed([Texts[0]])[0];
        }
        using var model = ServedModels.Open(_run, "int8", threads: 1);
        var v = model.Embedding!.Embed([model.Tokenizer!.Encode(Texts[0])])[0];
        DistillSharp.Serving.Backends.VectorMath.Normalize(v);
        Assert.Equal(expected, v);
    }

    [Fact]
    public void AnLmRunServesItsInt8DecoderWithTheStudentsTokenizer()
    {
        using (var decoder = Decoder()) decoder.Save(Path.Combine(_run, "student-int8"));
        DecoderTokenizer.Save(Path.Combine(_run, "student"));
        using var model = ServedModels.Open(_run, "int8", threads: 1, maxContext: 32);
        var backend = Assert.IsType<Int8CompletionBackend>(model.Completion);
        Assert.Equal(32, backend.MaxContext);
        Assert.Equal(DecoderTokenizer.Encode("a small"), backend.Encode("a small"));
        var e = Assert.Throws<DistillSharpException>(() => ServedModels.Open(Path.Combine(_run, "student-int8"), "torch", 1));
        Assert.Contains("INT8 folder", e.Message);
        File.Delete(Path.Combine(_run, "student", "tokenizer.json"));
        e = Assert.Throws<DistillSharpException>(() => ServedModels.Open(_run, "int8", 1));
        Assert.Contains("no tokenizer.json", e.Message);
    }
}

using System.Diagnostics;
using DistillSharp.Export.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Models.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Tests.Models;
using Xunit.Abstractions;
using static DistillSharp.Tests.Export.ExportTestKit;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Export;

/// <summary>Slow: MiniLM-sized models. File-size ratio, and the real all-MiniLM-L6-v2 teacher exported back to ONNX.</summary>
[Trait("Category", "Slow")]
public sealed class OnnxTeacherExportTests(ITestOutputHelper log) : IDisposable
{
    readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Calibration = OnnxRuntimeParityTests.Sentences.Concat(
    [
        "A man is playing a guitar on the street.",
        "The stock market fell sharply after the announcement.",
        "Knowledge distillation compresses large neural networks.",
        "She bought fresh bread and cheese at the market.",
        "How do I reset my password?",
        "Photosynthesis converts light energy into chemical energy.",
        "The train to Berlin leaves at seven in the morning.",
        "Cats are small carnivorous mammals often kept as pets.",
    ]).ToArray();

    static readonly string[] HeldOut =
    [
        "The quick brown fox jumps over the lazy dog.",
        "ok",
        "Quantized encoders trade a little accuracy for much smaller files and faster inference on CPUs.",
        "Where is the nearest pharmacy?",
        "Rain is expected over the weekend in the northern regions.",
    ];

    [Fact]
    public void Int8FileOfAMiniLmSizedModelIsUnderAThirdOfFp32()
    {
        // Random weights, MiniLM's shape: vocab 30522, hidden 384, 6 layers, 12 heads, FFN 1536.
        TorchSharp.torch.manual_seed(21);
        using var model = new BertEncoderModel(new BertConfig());
        var quantized = new PostTrainingQuantizer(new PtqOptions(Mode: ActivationMode.Dynamic)).Quantize(model, []);
        long fp32 = OnnxExporter.BuildFp32(model).CalculateSize();
        long int8 = OnnxExporter.BuildInt8(model, quantized).CalculateSize();
        long int8FloatEmbeddings = OnnxExporter.BuildInt8(model, quantized, new OnnxExportOptions(QuantizeWordEmbeddings: false)).CalculateSize();
        log.WriteLine($"fp32 {fp32} B, int8 {int8} B ({(double)int8 / fp32:F3}×), int8 with fp32 word embeddings {int8FloatEmbeddings} B ({(double)int8FloatEmbeddings / fp32:F3}×)");
        Assert.True(int8 <= 0.3 * fp32, $"int8 {int8} B is {(double)int8 / fp32:F3}× fp32 {fp32} B");
    }

    [Fact]
    public void TeacherExportedFromTorchSharpMatchesTheOriginalOnnx()
    {
        var (original, _) = BuiltinTeachers.Get("all-MiniLM-L6-v2").ReadResources();
        using var encoder = ModelLoader.Load("builtin:all-MiniLM-L6-v2");
        string path = Path.Combine(_dir, "minilm.onnx");
        var clock = Stopwatch.StartNew();
        var result = OnnxExporter.ExportFp32(encoder, path);
        log.WriteLine($"export {clock.ElapsedMilliseconds} ms; original ONNX {original.Length} B, exported {result.FileBytes} B");

        var batch = encoder.Tokenizer.EncodeBatch(OnnxRuntimeParityTests.Sentences);
        using var reference = new OnnxRuntimeEncoder(original);
        var (refHidden, _, _) = reference.Run(batch);
        var (hidden, embedding) = RunOrt(File.ReadAllBytes(path), batch);
        var (_, torchEmbedding) = RunTorch(encoder, batch);
        double dHidden = MaxAbsDiff(hidden, refHidden), dEmbedding = MaxAbsDiff(embedding, torchEmbedding);
        log.WriteLine($"max |Δ last_hidden_state| vs original ONNX {dHidden:E2}; max |Δ sentence_embedding| vs TorchSharp {dEmbedding:E2}");
        Assert.True(dHidden <= 1e-4, $"max |Δ last_hidden_state| = {dHidden}");
        Assert.True(dEmbedding <= 1e-4, $"max |Δ sentence_embedding| = {dEmbedding}");
        // The published embedding of the first sentence (as MiniLmReferenceTests), straight from the graph output.
        float[] expected = [0.043934f, 0.058934f, 0.048178f, 0.077548f, 0.026744f];
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], embedding[i], 5e-6f);
    }

    [Theory]
    [InlineData(ActivationMode.Static, OnnxDynamicActivations.Model, true, 0.93)]
    [InlineData(ActivationMode.Dynamic, OnnxDynamicActivations.OrtPerTensor, true, 0.96)]
    [InlineData(ActivationMode.Dynamic, OnnxDynamicActivations.PerToken, true, 0.98)]
    [InlineData(ActivationMode.Dynamic, OnnxDynamicActivations.PerToken, false, 0.98)]
    public void TeacherInt8EmbeddingsStayCloseToFp32(ActivationMode mode, OnnxDynamicActivations dynamic, bool int8Words, double floor)
    {
        using var encoder = ModelLoader.Load("builtin:all-MiniLM-L6-v2");
        var quantized = Quantize(encoder, new PtqOptions(Mode: mode), Calibration);
        string fp32Path = Path.Combine(_dir, "minilm.onnx"), int8Path = Path.Combine(_dir, "minilm-int8.onnx");
        var fp32 = OnnxExporter.ExportFp32(encoder, fp32Path);
        var int8 = OnnxExporter.ExportInt8(encoder, quantized, int8Path, new OnnxExportOptions(DynamicActivations: dynamic, QuantizeWordEmbeddings: int8Words));

        var batch = encoder.Tokenizer.EncodeBatch(HeldOut);
        var (_, fpEmbedding) = RunOrt(File.ReadAllBytes(fp32Path), batch);
        var (_, qEmbedding) = RunOrt(File.ReadAllBytes(int8Path), batch);
        MakeQuantizedReference(encoder, quantized, int8Words);
        var (_, refEmbedding) = RunTorch(encoder, batch);
        var cosines = RowCosines(qEmbedding, fpEmbedding, 384);
        var cosRef = RowCosines(qEmbedding, refEmbedding, 384);
        var (_, plainEmbedding) = RunOrt(File.ReadAllBytes(int8Path), batch, optimize: false);  // node by node, no fused kernels
        log.WriteLine($"fused vs unfused ORT [{string.Join(", ", RowCosines(plainEmbedding, qEmbedding, 384).Select(c => c.ToString("F5")))}], " +
                      $"reference vs fp32 [{string.Join(", ", RowCosines(refEmbedding, fpEmbedding, 384).Select(c => c.ToString("F4")))}]");
        log.WriteLine($"{int8.Scheme}, int8 word embeddings {int8Words}: fp32 {fp32.FileBytes} B, int8 {int8.FileBytes} B ({(double)int8.FileBytes / fp32.FileBytes:F3}×); " +
                      $"cosine vs fp32 per sentence [{string.Join(", ", cosines.Select(c => c.ToString("F4")))}]; " +
                      $"vs TorchSharp fake-quant reference [{string.Join(", ", cosRef.Select(c => c.ToString("F5")))}]");
        // Floors sit below the measured minima (docs/EXPORT.md; the 3-token "ok" is always the worst). Static mode is
        // calibrated on Calibration (13 sentences); HeldOut shares only the fox sentence with it.
        Assert.All(cosines, c => Assert.True(c >= floor, $"cosine {c:F4} < {floor}"));
        // The graph computes what our simulation computes (exact on the tiny model, rel. error ≤ 1e-7 for per-token),
        // but over 6 MiniLM layers a float-rounding difference that moves one activation across a rounding boundary
        // changes it by a whole step, and the next layers' inputs then cross other boundaries: ORT and the simulation
        // end up as two realizations of the same quantization noise, about as far apart as each is from fp32 (measured
        // ≥ 0.992). Per-tensor dynamic differs by design (one scale per batch) and is not compared.
        if (dynamic == OnnxDynamicActivations.PerToken || mode == ActivationMode.Static)
            Assert.All(cosRef, c => Assert.True(c >= 0.99, $"cosine vs fake-quant reference {c:F5} < 0.99"));
        if (int8Words) Assert.True(int8.FileBytes <= 0.3 * fp32.FileBytes);
    }
}

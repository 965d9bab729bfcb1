using DistillSharp.Export.Classifier;
using DistillSharp.Export.Encoder;
using DistillSharp.Models.Classifier;
using DistillSharp.Quantization.Classifier;
using DistillSharp.Runtime.Tokenization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;
using static DistillSharp.Tests.Export.ExportTestKit;

namespace DistillSharp.Tests.Export;

/// <summary>
/// ONNX export of sequence classifiers, run by ONNX Runtime (the reference) against our TorchSharp
/// model: fp32 against the model itself, INT8 against its fake-quant simulation.
/// </summary>
public sealed class OnnxClassifierExportTests(ITestOutputHelper log)
{
    static float[] RunOrtLogits(byte[] onnx, TokenBatch batch)
    {
        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        Assert.Equal(["last_hidden_state", "logits"], session.OutputMetadata.Keys.Order());
        using var results = session.Run(Inputs(batch));
        var logits = results.First(r => r.Name == "logits").AsTensor<float>();
        Assert.Equal([batch.Count, 3], logits.Dimensions.ToArray());
        return logits.ToArray();
    }

    static float[] TorchLogits(SequenceClassifier classifier, TokenBatch batch)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var noGrad = TorchSharp.torch.no_grad();
        return classifier.Forward(batch).Logits!.contiguous().data<float>().ToArray();
    }

    [Fact]
    public void Fp32LogitsMatchTorchSharp()
    {
        using var classifier = TinyModels.Classifier(seed: 8);
        var proto = ClassifierOnnxExporter.BuildFp32(classifier);
        Assert.Equal("{\"0\":\"animal\",\"1\":\"thing\",\"2\":\"action\"}", proto.MetadataProps.Single(p => p.Key == "id2label").Value);
        var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
        double diff = MaxAbsDiff(RunOrtLogits(proto.ToByteArray(), batch), TorchLogits(classifier, batch));
        log.WriteLine($"fp32 ONNX vs TorchSharp: max |Δ logits| {diff:E2}");
        Assert.True(diff < 1e-5, $"max |Δ logits| {diff:E2}");                 // float rounding order only (measured ~1e-7)
    }

    [Fact]
    public void Int8PerTokenLogitsMatchTheFakeQuantReference()
    {
        using var classifier = TinyModels.Classifier(seed: 9);
        var quantized = DistillSharp.Tests.Runtime.Int8ClassifierTests.Ptq(classifier);
        var options = new OnnxExportOptions(DynamicActivations: OnnxDynamicActivations.PerToken, QuantizeWordEmbeddings: false);
        string dir = TempDir();
        try
        {
            var result = ClassifierOnnxExporter.ExportInt8(classifier, quantized, Path.Combine(dir, "c.onnx"), options);
            Assert.Equal(14, result.Int8Layers.Count);
            Assert.Contains("classifier", result.Int8Layers);
            using var simulated = ClassifierQuantizer.Simulated(classifier, quantized);
            var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
            var ort = RunOrtLogits(File.ReadAllBytes(result.Path), batch);
            double diff = MaxAbsDiff(ort, TorchLogits(simulated, batch)), quantError = MaxAbsDiff(TorchLogits(simulated, batch), TorchLogits(classifier, batch));
            log.WriteLine($"INT8 per-token ONNX vs fake-quant reference: max |Δ logits| {diff:E2} (quantization itself: {quantError:E2})");
            if (OrtInt8Host.Exact) Assert.True(diff < 1e-4, $"max |Δ logits| {diff:E2}");
            else log.WriteLine(OrtInt8Host.Why);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Int8DefaultExportStaysCloseToFp32()
    {
        using var classifier = TinyModels.Classifier(seed: 10);
        var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
        var ort = RunOrtLogits(ClassifierOnnxExporter.BuildInt8(classifier, DistillSharp.Tests.Runtime.Int8ClassifierTests.Ptq(classifier)).ToByteArray(), batch);
        var fp32 = TorchLogits(classifier, batch);
        double diff = MaxAbsDiff(ort, fp32), scale = fp32.Max(Math.Abs);
        log.WriteLine($"INT8 (ORT per-tensor dynamic, int8 word embeddings) vs fp32: max |Δ logits| {diff:E2} of max |logit| {scale:E2}");
        if (!OrtInt8Host.Exact) { log.WriteLine(OrtInt8Host.Why); return; }
        Assert.True(diff < 0.05 * scale, $"max |Δ logits| {diff:E2}");
    }
}

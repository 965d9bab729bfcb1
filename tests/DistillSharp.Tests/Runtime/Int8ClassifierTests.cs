using DistillSharp.Models.Classifier;
using DistillSharp.Quantization;
using DistillSharp.Quantization.Classifier;
using DistillSharp.Runtime.Classifier;
using DistillSharp.Runtime.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Tokenization;
using Xunit.Abstractions;
using static DistillSharp.Tests.Export.ExportTestKit;

namespace DistillSharp.Tests.Runtime;

/// <summary>
/// The INT8 classifier runtime (encoder + pooler + classifier head in pure C#) on the tiny classifier
/// against the fake-quant TorchSharp reference (<see cref="ClassifierQuantizer.Simulated"/>) and the
/// fp32 classifier.
/// </summary>
public sealed class Int8ClassifierTests(ITestOutputHelper log)
{
    static readonly string[] Calibration = ["the dog sat on the red mat", "a bird was in the big tree", "fish eat and sleep", "the small cat ran fast"];
    static readonly Int8EncoderOptions Fp32Embeddings = new(Threads: 1, Int8WordEmbeddings: false);

    internal static QuantizedModel Ptq(SequenceClassifier classifier) =>
        ClassifierQuantizer.Quantize(classifier, new QuantizeConfig { Mode = "dynamic", Scheme = "symmetric" }, Calibration);

    static float[] TorchLogits(SequenceClassifier classifier, TokenBatch batch)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        using var noGrad = TorchSharp.torch.no_grad();
        return classifier.Forward(batch).Logits!.contiguous().data<float>().ToArray();
    }

    [Fact]
    public void MatchesTheFakeQuantReference()
    {
        using var classifier = TinyModels.Classifier(seed: 3);
        var quantized = Ptq(classifier);
        Assert.Contains("bert.pooler.dense", quantized.Layers.Keys);
        Assert.Contains("classifier", quantized.Layers.Keys);
        using var simulated = ClassifierQuantizer.Simulated(classifier, quantized);
        using var runtime = ClassifierToRuntime.Build(classifier, quantized, Fp32Embeddings);
        Assert.Equal(14, runtime.Int8Layers.Count);                           // 12 encoder Linears + pooler + classifier
        Assert.Empty(runtime.Fp32Layers);
        var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
        float[] logits = runtime.Forward(batch).ToArray(), reference = TorchLogits(simulated, batch), fp32 = TorchLogits(classifier, batch);
        double diff = MaxAbsDiff(logits, reference), quantError = MaxAbsDiff(reference, fp32);
        log.WriteLine($"max |Δ logits| vs fake-quant reference {diff:E2}; reference vs fp32 {quantError:E2}");
        // Same arithmetic up to float rounding order (see Int8EncoderTests.Schemes for why not bit-exact);
        // the bound stays far below the quantization error itself.
        Assert.True(diff < 1e-4, $"max |Δ logits| {diff:E2}");
        Assert.True(quantError > 10 * diff, $"the comparison must resolve quantization: reference vs fp32 {quantError:E2}");
    }

    [Fact]
    public void WithoutQuantizedLayersItIsTheFp32Classifier()
    {
        using var classifier = TinyModels.Classifier(seed: 4);
        var empty = new QuantizedModel(new Dictionary<string, QuantizedLinearWeights>(), 8, 8, true, ActivationMode.Dynamic, "none");
        using var runtime = ClassifierToRuntime.Build(classifier, empty, Fp32Embeddings);
        Assert.Equal(["pooler.dense", "classifier"], runtime.Fp32Layers.TakeLast(2));
        var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
        double diff = MaxAbsDiff(runtime.Forward(batch).ToArray(), TorchLogits(classifier, batch));
        log.WriteLine($"fp32 path: max |Δ logits| {diff:E2}");
        Assert.True(diff < 2e-6, $"max |Δ logits| {diff:E2}");                  // float rounding only
    }

    [Fact]
    public void AHeadKeptInFp32RunsBesideAnInt8Encoder()
    {
        using var classifier = TinyModels.Classifier(seed: 5);
        var full = Ptq(classifier);
        var encoderOnly = full with { Layers = full.Layers.Where(kv => kv.Key.StartsWith("bert.encoder.")).ToDictionary() };
        using var simulated = ClassifierQuantizer.Simulated(classifier, encoderOnly);
        using var runtime = ClassifierToRuntime.Build(classifier, encoderOnly, Fp32Embeddings);
        Assert.Equal(["pooler.dense", "classifier"], runtime.Fp32Layers);
        var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
        Assert.True(MaxAbsDiff(runtime.Forward(batch).ToArray(), TorchLogits(simulated, batch)) < 1e-4);
    }

    [Fact]
    public void SavedFolderLoadsWithItsLabelsAndGivesTheSameLogits()
    {
        using var classifier = TinyModels.Classifier(seed: 6);
        string dir = TempDir();
        try
        {
            using var runtime = ClassifierToRuntime.Build(classifier, Ptq(classifier));
            runtime.Save(dir);
            Assert.True(Int8ClassifierFile.IsFolder(dir));
            using var loaded = Int8Classifier.Load(dir);
            Assert.Equal(TinyModels.Labels, loaded.Config.Labels);
            var batch = classifier.Tokenizer.EncodeBatch(TinySentences);
            Assert.Equal(runtime.Forward(batch).ToArray(), loaded.Forward(batch).ToArray());
            var probabilities = loaded.Probabilities(TinySentences);
            Assert.All(probabilities, p => Assert.Equal(1.0, p.Sum(v => (double)v), 5));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ASentenceEncoderFolderIsNotAClassifier()
    {
        using var encoder = TinyModels.Encoder();
        string dir = TempDir();
        try
        {
            var empty = new QuantizedModel(new Dictionary<string, QuantizedLinearWeights>(), 8, 8, true, ActivationMode.Dynamic, "none");
            using (var runtime = DistillSharp.Quantization.Encoder.EncoderToRuntime.Build(encoder, empty)) runtime.Save(dir);
            var e = Assert.Throws<DistillSharpException>(() => Int8ClassifierFile.Load(dir));
            Assert.Contains("not an INT8 classifier", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

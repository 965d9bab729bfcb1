using DistillSharp.Export.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Quantization;
using Google.Protobuf;
using Onnx;
using Xunit.Abstractions;
using static DistillSharp.Tests.Export.ExportTestKit;

namespace DistillSharp.Tests.Export;

/// <summary>INT8 export of the tiny encoder: ORT runs it, ORT fuses it into integer kernels, and it matches
/// the fake-quant reference (QuantizedLinearSimulation + dequantized int8 word embeddings).</summary>
public sealed class OnnxInt8ExportTests(ITestOutputHelper log) : IDisposable
{
    readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static readonly string[] Calibration =
    [
        "the dog sat on the red mat", "a bird was in the big tree", "fish eat and sleep", "the small cat ran fast",
        "it is a blue house", "the dogs and cats sleep", "a slow fish , a fast bird", "red or blue ?",
    ];

    public static TheoryData<string, ActivationMode, int, bool, OnnxDynamicActivations, double> Schemes => new()
    {
        // name, mode, activation bits, symmetric, dynamic flavour, bound on ‖ORT − reference‖/‖reference‖ (last hidden state)
        { "static-sym", ActivationMode.Static, 8, true, OnnxDynamicActivations.Model, 2e-3 },
        { "static-asym", ActivationMode.Static, 8, false, OnnxDynamicActivations.Model, 2e-3 },
        { "dynamic-model", ActivationMode.Dynamic, 8, true, OnnxDynamicActivations.Model, 2e-3 },   // int8-dynamic's own form: per token
        { "dynamic-per-token", ActivationMode.Dynamic, 8, true, OnnxDynamicActivations.PerToken, 2e-3 },
        // Weight-only: ORT turns DequantizeLinear → MatMul into MatMulNBits, whose default accuracy level 4
        // quantizes activations to int8 blocks internally; measured 1.6e-4.
        { "weight-only", ActivationMode.Dynamic, 0, true, OnnxDynamicActivations.Model, 2e-3 },
    };

    [Theory]
    [MemberData(nameof(Schemes))]
    public void OnnxRuntimeMatchesTheFakeQuantReference(string name, ActivationMode mode, int bits, bool symmetric,
        OnnxDynamicActivations dynamic, double relBound)
    {
        using var encoder = TinyModels.Encoder(seed: 11);
        var quantized = Quantize(encoder, new PtqOptions(ActivationBits: bits, ActivationSymmetric: symmetric, Observer: "minmax", Mode: mode), Calibration);
        string path = Path.Combine(_dir, name + ".onnx");
        var result = OnnxExporter.ExportInt8(encoder, quantized, path, new OnnxExportOptions(DynamicActivations: dynamic));
        Assert.Equal(12, result.Int8Layers.Count);                               // 6 Linears × 2 layers; the pooler is not in the graph
        Assert.Empty(result.Fp32Layers);

        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (ortHidden, ortEmbedding) = RunOrt(File.ReadAllBytes(path), batch);
        var (fpHidden, fpEmbedding) = RunTorch(encoder, batch);
        MakeQuantizedReference(encoder, quantized, quantizeWordEmbeddings: true);
        var (refHidden, refEmbedding) = RunTorch(encoder, batch);

        double rel = RelativeError(ortHidden, refHidden, batch, 32);
        double relFp = RelativeError(ortHidden, fpHidden, batch, 32);
        double cosRef = RowCosines(ortEmbedding, refEmbedding, 32).Min();
        double cosFp = RowCosines(ortEmbedding, fpEmbedding, 32).Min();
        log.WriteLine($"{name}: rel err vs reference {rel:E2}, vs fp32 {relFp:E2}; min cosine vs reference {cosRef:F6}, vs fp32 {cosFp:F6}");
        // ORT computes the same integer products as the reference; what differs is float rounding (GEMM order,
        // x/s vs x·(1/s) inside QuantizeLinear) and uint8 saturation admitting the code −128 that our symmetric
        // grid clamps to −127; either can move an activation across a rounding boundary: one
        // quantization step on a few elements. relBound sits ~10× above the largest measured value.
        if (!OrtInt8Host.Exact) { log.WriteLine(OrtInt8Host.Why); return; }
        Assert.True(rel <= relBound, $"{name}: ‖ORT − reference‖/‖reference‖ = {rel:E2} > {relBound:E0}");
        Assert.True(cosRef >= 0.9999, $"{name}: sentence-embedding cosine vs reference {cosRef:F6}");
        Assert.True(cosFp >= 0.99, $"{name}: sentence-embedding cosine vs fp32 {cosFp:F6}");
    }

    [Fact]
    public void OrtPerTensorDynamicIsCloseToFp32()
    {
        // DynamicQuantizeLinear uses one uint8 scale for the whole batch, unlike our per-token reference, so it is
        // checked against fp32 (and against the per-token reference) by cosine only.
        using var encoder = TinyModels.Encoder(seed: 12);
        var quantized = Quantize(encoder, new PtqOptions(Mode: ActivationMode.Dynamic), Calibration);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (_, ortEmbedding) = RunOrt(OnnxExporter.BuildInt8(encoder.Model, quantized, new OnnxExportOptions(DynamicActivations: OnnxDynamicActivations.OrtPerTensor)).ToByteArray(), batch);
        var (_, fpEmbedding) = RunTorch(encoder, batch);
        MakeQuantizedReference(encoder, quantized, quantizeWordEmbeddings: true);
        var (_, refEmbedding) = RunTorch(encoder, batch);
        double cosFp = RowCosines(ortEmbedding, fpEmbedding, 32).Min(), cosRef = RowCosines(ortEmbedding, refEmbedding, 32).Min();
        log.WriteLine($"dynamic per-tensor: min cosine vs fp32 {cosFp:F6}, vs per-token reference {cosRef:F6}");
        Assert.True(cosFp >= 0.99 && cosRef >= 0.99, $"cosine vs fp32 {cosFp:F6}, vs per-token reference {cosRef:F6}");
    }

    [Theory]
    [InlineData(ActivationMode.Static)]
    [InlineData(ActivationMode.Dynamic)]
    public void OnnxRuntimeFusesEveryLinearIntoAnIntegerKernel(ActivationMode mode)
    {
        using var encoder = TinyModels.Encoder(seed: 13);
        var quantized = Quantize(encoder, new PtqOptions(Observer: "minmax", Mode: mode), Calibration);
        var perTensor = new OnnxExportOptions(DynamicActivations: mode == ActivationMode.Dynamic ? OnnxDynamicActivations.OrtPerTensor : OnnxDynamicActivations.Model);
        var ops = OptimizedOpTypes(OnnxExporter.BuildInt8(encoder.Model, quantized, perTensor).ToByteArray());
        log.WriteLine($"{mode}: " + string.Join(", ", ops.GroupBy(o => o).Select(g => $"{g.Key}×{g.Count()}")));
        // Static: QuantizeLinear + MatMulIntegerToFloat (u8×s8). Dynamic: DynamicQuantizeMatMul, except that ORT
        // merges the identical DynamicQuantizeLinear of Q, K and V into one, whose three consumers stay MatMulIntegerToFloat.
        int integerGemms = ops.Count(o => o is "MatMulIntegerToFloat" or "DynamicQuantizeMatMul");
        Assert.Equal(12, integerGemms);                                          // 6 Linears × 2 layers
        Assert.Equal(2 * 2, ops.Count(o => o is "MatMul" or "FusedMatMul"));      // only QKᵀ and PV stay float
        Assert.DoesNotContain("DequantizeLinear", ops);                          // no float copy of any weight
        Assert.DoesNotContain("MatMulInteger", ops);
    }

    [Fact]
    public void WeightsAndWordEmbeddingsAreStoredAsInt8()
    {
        using var encoder = TinyModels.Encoder(seed: 14);
        var quantized = Quantize(encoder, new PtqOptions(Mode: ActivationMode.Dynamic), Calibration);
        var model = OnnxExporter.BuildInt8(encoder.Model, quantized);
        var byName = model.Graph.Initializer.ToDictionary(t => t.Name);
        var q = byName["encoder.layer.0.intermediate.dense.weight_t_quantized"];
        Assert.Equal((int)TensorProto.Types.DataType.Int8, q.DataType);
        Assert.Equal(new long[] { 32, 64 }, q.Dims);
        Assert.Equal(new long[] { 64 }, byName["encoder.layer.0.intermediate.dense.weight_scale"].Dims);
        // Transposed: element [in=i, out=o] of the initializer is element [o, i] of the quantized weight.
        var w = quantized.Layers["encoder.layer.0.intermediate.dense"].Weight;
        Assert.Equal(w[5 * 32 + 3], (sbyte)q.RawData[3 * 64 + 5]);
        Assert.Equal((int)TensorProto.Types.DataType.Int8, byName["embeddings.word_embeddings.weight_quantized"].DataType);
        Assert.Equal(new long[] { 35 }, byName["embeddings.word_embeddings.weight_scale"].Dims);
        Assert.DoesNotContain("embeddings.word_embeddings.weight", byName.Keys);
    }

    [Fact]
    public void LayersKeptInFp32AreExportedInFp32()
    {
        using var encoder = TinyModels.Encoder(seed: 15);
        var fallback = new HashSet<string> { "encoder.layer.1.output.dense" };
        var quantized = Quantize(encoder, new PtqOptions(Mode: ActivationMode.Dynamic, Fp32Layers: fallback), Calibration);
        var result = OnnxExporter.ExportInt8(encoder, quantized, Path.Combine(_dir, "mixed.onnx"),
            new OnnxExportOptions(DynamicActivations: OnnxDynamicActivations.PerToken, QuantizeWordEmbeddings: false));
        Assert.Equal(fallback.ToList(), result.Fp32Layers);
        Assert.Equal(11, result.Int8Layers.Count);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (ortHidden, _) = RunOrt(File.ReadAllBytes(result.Path), batch);
        MakeQuantizedReference(encoder, quantized, quantizeWordEmbeddings: false);
        Assert.True(RelativeError(ortHidden, RunTorch(encoder, batch).Hidden, batch, 32) <= 2e-3);
    }

    [Fact]
    public void FourBitWeightsAreABadInput()
    {
        using var encoder = TinyModels.Encoder(seed: 16);
        var quantized = Quantize(encoder, new PtqOptions(WeightBits: 4, ActivationBits: 0), Calibration);
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildInt8(encoder.Model, quantized));
        Assert.Contains("weight_bits is 4", e.Message);
    }

    [Fact]
    public void QuantizedModelOfAnotherShapeIsABadInput()
    {
        using var small = TinyModels.Encoder(seed: 17);
        using var wide = TinyModels.Encoder(seed: 17, config: TinyModels.Config(hidden: 48));
        var quantized = Quantize(small, new PtqOptions(Mode: ActivationMode.Dynamic), Calibration);
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildInt8(wide.Model, quantized));
        Assert.Contains("'encoder.layer.0.attention.self.query' is [32, 32]", e.Message);
        Assert.Contains("[48, 48]", e.Message);
    }

    [Fact]
    public void StaticLayerWithoutInputScaleIsABadInput()
    {
        using var encoder = TinyModels.Encoder(seed: 18);
        var dynamic = Quantize(encoder, new PtqOptions(Mode: ActivationMode.Dynamic), Calibration);
        var mislabelled = dynamic with { Mode = ActivationMode.Static };
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildInt8(encoder.Model, mislabelled));
        Assert.Contains("has no input_scale", e.Message);
    }

    [Fact]
    public void QuantizedModelOfSomethingElseIsABadInput()
    {
        using var encoder = TinyModels.Encoder(seed: 19);
        var empty = new QuantizedModel(new Dictionary<string, QuantizedLinearWeights>(), 8, 8, true, ActivationMode.Dynamic, "none");
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildInt8(encoder.Model, empty));
        Assert.Contains("none of the encoder's Linear layers", e.Message);
    }
}

using DistillSharp.Export.Encoder;
using DistillSharp.Models.Encoder;
using Google.Protobuf;
using Onnx;
using static DistillSharp.Tests.Export.ExportTestKit;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Export;

/// <summary>Float32 export of a tiny random encoder (hidden 32, 2 layers, 4 heads): ORT vs TorchSharp, layout, re-import.</summary>
public sealed class OnnxFp32ExportTests : IDisposable
{
    readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("gelu", Pooling.Mean, true)]
    [InlineData("gelu", Pooling.Cls, false)]
    [InlineData("relu", Pooling.Mean, false)]
    [InlineData("gelu_new", Pooling.Cls, true)]
    public void OnnxRuntimeMatchesTorchSharpOnAPaddedBatch(string activation, Pooling pooling, bool normalize)
    {
        var tiny = TinyModels.Encoder(seed: 3, config: TinyModels.Config() with { HiddenAct = activation }, pooling: pooling);
        using var encoder = new SentenceEncoder(tiny.Model, tiny.Tokenizer, pooling, normalize, "tiny");
        string path = Path.Combine(_dir, "tiny.onnx");
        var result = OnnxExporter.ExportFp32(encoder, path);
        Assert.Equal("fp32", result.Scheme);
        Assert.Equal(new FileInfo(path).Length, result.FileBytes);

        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        Assert.Contains(0L, batch.AttentionMask.Cast<long>());                   // really padded
        var (ortHidden, ortEmbedding) = RunOrt(File.ReadAllBytes(path), batch);
        var (hidden, embedding) = RunTorch(encoder, batch);
        // Same float32 ops in the same order; 1e-4 leaves room for different summation orders in GEMM/LayerNorm.
        Assert.True(MaxAbsDiff(ortHidden, hidden) <= 1e-4, $"max |Δ last_hidden_state| = {MaxAbsDiff(ortHidden, hidden)}");
        Assert.True(MaxAbsDiff(ortEmbedding, embedding) <= 1e-4, $"max |Δ sentence_embedding| = {MaxAbsDiff(ortEmbedding, embedding)}");
    }

    [Fact]
    public void UnoptimizedGraphMatchesToo()
    {
        // ORT_DISABLE_ALL runs our nodes one by one (no Gelu/LayerNorm/attention fusion): the graph itself is right.
        using var encoder = TinyModels.Encoder(seed: 4);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (ortHidden, ortEmbedding) = RunOrt(OnnxExporter.BuildFp32(encoder.Model).ToByteArray(), batch, optimize: false);
        var (hidden, embedding) = RunTorch(encoder, batch);
        Assert.True(MaxAbsDiff(ortHidden, hidden) <= 1e-4);
        Assert.True(MaxAbsDiff(ortEmbedding, embedding) <= 1e-4);
    }

    [Fact]
    public void GraphHasDynamicInputsNamedOutputsAndHuggingFaceInitializerNames()
    {
        using var encoder = TinyModels.Encoder();
        var model = OnnxExporter.BuildFp32(encoder.Model);
        Assert.Equal(17, model.OpsetImport.Single().Version);
        Assert.Equal(new[] { "input_ids", "attention_mask", "token_type_ids" }, model.Graph.Input.Select(i => i.Name));
        foreach (var input in model.Graph.Input)
        {
            Assert.Equal((int)TensorProto.Types.DataType.Int64, input.Type.TensorType.ElemType);
            Assert.Equal(new[] { "batch", "sequence" }, input.Type.TensorType.Shape.Dim.Select(d => d.DimParam));
        }
        Assert.Equal(new[] { "last_hidden_state", "sentence_embedding" }, model.Graph.Output.Select(o => o.Name));
        var names = model.Graph.Initializer.Select(t => t.Name).ToHashSet();
        Assert.Contains("embeddings.word_embeddings.weight", names);
        Assert.Contains("encoder.layer.1.attention.self.query.bias", names);
        Assert.Contains("encoder.layer.1.output.LayerNorm.weight", names);
        var queryT = model.Graph.Initializer.Single(t => t.Name == "encoder.layer.0.attention.self.query.weight_t");
        Assert.Equal(new long[] { 32, 32 }, queryT.Dims);
        var ffnT = model.Graph.Initializer.Single(t => t.Name == "encoder.layer.0.intermediate.dense.weight_t");
        Assert.Equal(new long[] { 32, 64 }, ffnT.Dims);                          // [in, out] for MatMul
        Assert.DoesNotContain(names, n => n.StartsWith("pooler."));              // the outputs do not use the pooler
        Assert.Equal(1 + 2 * 2, model.Graph.Node.Count(n => n.OpType == "LayerNormalization")); // embeddings + 2 per layer
        Assert.Equal(2, model.Graph.Node.Count(n => n.OpType == "Softmax"));
    }

    [Fact]
    public void ReimportWithModelLoaderGivesTheSameEmbeddings()
    {
        using var encoder = TinyModels.Encoder(seed: 5);
        string path = Path.Combine(_dir, "student.onnx");
        OnnxExporter.ExportFp32(encoder, path);
        File.WriteAllText(Path.Combine(_dir, "vocab.txt"), TinyModels.Vocab);

        using var loaded = ModelLoader.LoadOnnxFile(path);
        var read = loaded.Model.Config;                                          // dropout is not in a graph; the importer's default is kept
        Assert.Equal(encoder.Model.Config with { HasPooler = false, LayerNormEps = read.LayerNormEps,
            HiddenDropoutProb = read.HiddenDropoutProb, AttentionProbsDropoutProb = read.AttentionProbsDropoutProb }, read);
        Assert.Equal(1e-12, loaded.Model.Config.LayerNormEps, 1e-18);          // stored as a float attribute
        var expected = encoder.Embed(TinySentences);
        var actual = loaded.Embed(TinySentences);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(MaxAbsDiff(actual[i], expected[i]) <= 1e-6, $"sentence {i}: {MaxAbsDiff(actual[i], expected[i])}");
    }

    [Fact]
    public void ReimportReadsTheTanhGelu()
    {
        using var encoder = TinyModels.Encoder(seed: 6, config: TinyModels.Config() with { HiddenAct = "gelu_new" });
        string path = Path.Combine(_dir, "tanh.onnx");
        OnnxExporter.ExportFp32(encoder, path);
        File.WriteAllText(Path.Combine(_dir, "vocab.txt"), TinyModels.Vocab);
        using var loaded = ModelLoader.LoadOnnxFile(path);
        Assert.Equal("gelu_new", loaded.Model.Config.HiddenAct);
        Assert.True(MaxAbsDiff(loaded.Embed(["the cat"])[0], encoder.Embed(["the cat"])[0]) <= 1e-6);
    }

    [Theory]
    [InlineData(16, "opset 16")]
    [InlineData(22, "opset 22")]
    public void UnsupportedOpsetIsABadInput(int opset, string expected)
    {
        using var encoder = TinyModels.Encoder();
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.BuildFp32(encoder.Model, new OnnxExportOptions(Opset: opset)));
        Assert.Contains(expected, e.Message);
        Assert.Contains("17–21", e.Message);
    }

    [Fact]
    public void MissingOutputFolderIsABadInput()
    {
        using var encoder = TinyModels.Encoder();
        var e = Assert.Throws<DistillSharpException>(() => OnnxExporter.ExportFp32(encoder, Path.Combine(_dir, "no", "such", "x.onnx")));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void UnknownActivationIsRejectedNamingIt()
    {
        // Models, kernels and the exporter read one activation table: a name outside it stops at the config check.
        var e = Assert.Throws<DistillSharpException>(() => new BertEncoderModel(TinyModels.Config() with { HiddenAct = "mish" }));
        Assert.Contains("'mish'", e.Message);
        Assert.Contains("gelu_new", e.Message);
    }

    [Theory]
    [InlineData("gelu")]
    [InlineData("gelu_new")]
    [InlineData("gelu_pytorch_tanh")]
    [InlineData("relu")]
    [InlineData("silu")]
    [InlineData("swish")]
    public void EveryActivationOfTheTableExportsAsTorchComputesIt(string act)
    {
        Assert.Contains(act, DistillSharp.Runtime.Kernels.Activations.Names);
        using var encoder = TinyModels.Encoder(seed: 8, config: TinyModels.Config() with { HiddenAct = act });
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (ortHidden, _) = RunOrt(OnnxExporter.BuildFp32(encoder.Model).ToByteArray(), batch);
        var (torchHidden, _) = RunTorch(encoder, batch);
        Assert.True(RelativeError(ortHidden, torchHidden, batch, 32) <= 1e-5, act);
    }

    [Fact]
    public void Opset21GraphRunsToo()
    {
        using var encoder = TinyModels.Encoder(seed: 7);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (_, ortEmbedding) = RunOrt(OnnxExporter.BuildFp32(encoder.Model, new OnnxExportOptions(Opset: 21)).ToByteArray(), batch);
        Assert.True(MaxAbsDiff(ortEmbedding, RunTorch(encoder, batch).Embedding) <= 1e-4);
    }
}

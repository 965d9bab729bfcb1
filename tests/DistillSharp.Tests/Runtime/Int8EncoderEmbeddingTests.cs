using System.Text.Json.Nodes;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using Xunit.Abstractions;
using static DistillSharp.Tests.Export.ExportTestKit;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Runtime;

/// <summary>
/// Int8 per-row word embeddings in the INT8 runtime: in memory (only gathered rows are dequantized),
/// in the saved folder (<c>int8_embeddings.safetensors</c>) and in its size.
/// </summary>
public sealed class Int8EncoderEmbeddingTests(ITestOutputHelper log) : IDisposable
{
    const string Word = Int8EncoderWeights.WordEmbeddingsName;
    static readonly Int8EncoderOptions Fp32Embeddings = new(Threads: 1, Int8WordEmbeddings: false);
    readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void TheTableIsInt8InMemoryAndEqualsTheExportQuantizer()
    {
        using var encoder = TinyModels.Encoder(seed: 31);
        var weights = EncoderToRuntime.Weights(encoder, Int8EncoderTests.Ptq(encoder));
        using var runtime = new Int8Encoder(weights, new Int8EncoderOptions(Threads: 1));
        var table = Assert.IsType<Int8EmbeddingTable>(runtime.Weights.Int8WordEmbeddings);
        Assert.False(runtime.Weights.Fp32.ContainsKey(Word));                    // no float copy kept
        var (values, scales) = EmbeddingQuantizer.Quantize(weights.Fp32[Word].Data, weights.Config.VocabSize, weights.Config.HiddenSize);
        Assert.Equal(values, table.Values);
        Assert.Equal(scales, table.Scales);
    }

    [Fact]
    public void EmbeddingOutputEqualsTheDequantizedRows()
    {
        // The int8 lookup computes q · scale_row then adds, exactly what a float table holding the
        // dequantized rows gives: the whole forward pass is bit-identical.
        using var encoder = TinyModels.Encoder(seed: 32);
        var int8 = EncoderToRuntime.Weights(encoder, Int8EncoderTests.Ptq(encoder)).WithInt8WordEmbeddings();
        var dequantized = int8.WithFp32WordEmbeddings();
        Assert.Equal(EmbeddingQuantizer.Dequantize(int8.Int8WordEmbeddings!.Values, int8.Int8WordEmbeddings.Scales, 32), dequantized.Fp32[Word].Data);
        using var a = new Int8Encoder(int8, new Int8EncoderOptions(Threads: 1));
        using var b = new Int8Encoder(dequantized, Fp32Embeddings);
        Assert.Null(b.Weights.Int8WordEmbeddings);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var (x, y) = (a.Forward(batch).ToArrays(), b.Forward(batch).ToArrays());
        Assert.Equal(y.LastHiddenState, x.LastHiddenState);
        Assert.Equal(y.Pooled, x.Pooled);
    }

    [Fact]
    public void PooledEmbeddingsStayCloseToFp32WordEmbeddings()
    {
        using var encoder = TinyModels.Encoder(seed: 33);
        var quantized = Int8EncoderTests.Ptq(encoder);
        using var int8 = EncoderToRuntime.Build(encoder, quantized, threads: 1);
        using var fp32 = EncoderToRuntime.Build(encoder, quantized, Fp32Embeddings);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        double cos = RowCosines(int8.Forward(batch).ToArrays().Pooled, fp32.Forward(batch).ToArrays().Pooled, 32).Min();
        log.WriteLine($"min pooled cosine, int8 vs fp32 word embeddings: {cos:F6}");   // measured 0.999997
        Assert.True(cos >= 0.999, $"min pooled cosine {cos:F6} < 0.999");
    }

    [Fact]
    public void SaveLoadRoundTripIsExact()
    {
        using var encoder = TinyModels.Encoder(seed: 34);
        using var original = EncoderToRuntime.Build(encoder, Int8EncoderTests.Ptq(encoder), threads: 1);
        string folder = Path.Combine(_dir, "student-int8");
        original.Save(folder);
        var (tensors, _) = Safetensors.Read(Path.Combine(folder, Int8EncoderFile.Int8EmbeddingsFile));
        Assert.Equal(new[] { "I8", "F32" }, new[] { tensors[Word].Dtype, tensors[Word + "_scale"].Dtype });
        Assert.Equal(new long[] { 35, 32 }, tensors[Word].Shape);
        Assert.Equal(new long[] { 35 }, tensors[Word + "_scale"].Shape);
        Assert.DoesNotContain(Word, Safetensors.Read(Path.Combine(folder, Int8EncoderFile.Fp32File)).Tensors.Keys);
        Assert.Equal("2", JsonNode.Parse(File.ReadAllText(Path.Combine(folder, Int8EncoderFile.RuntimeFile)))!["format_version"]!.GetValue<string>());

        using var loaded = Int8Encoder.Load(folder, new Int8EncoderOptions(Threads: 1));
        var (before, after) = (original.Weights.Int8WordEmbeddings!, loaded.Weights.Int8WordEmbeddings!);
        Assert.Equal(before.Values, after.Values);
        Assert.Equal(before.Scales, after.Scales);
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        Assert.Equal(original.Forward(batch).ToArrays().Pooled, loaded.Forward(batch).ToArrays().Pooled);
    }

    [Fact]
    public void FoldersWithFp32WordEmbeddingsStillLoad()
    {
        // Int8WordEmbeddings: false writes the version-1 layout (word table in fp32.safetensors), as folders
        // saved before int8 embeddings. Loaded with the default options the table is quantized on load.
        using var encoder = TinyModels.Encoder(seed: 35);
        var quantized = Int8EncoderTests.Ptq(encoder);
        string folder = Path.Combine(_dir, "old");
        using (var int8 = EncoderToRuntime.Build(encoder, quantized, threads: 1)) int8.Save(folder);   // leaves a table behind
        using var fp32 = EncoderToRuntime.Build(encoder, quantized, Fp32Embeddings);
        fp32.Save(folder);
        Assert.False(File.Exists(Path.Combine(folder, Int8EncoderFile.Int8EmbeddingsFile)));
        Assert.Equal("1", JsonNode.Parse(File.ReadAllText(Path.Combine(folder, Int8EncoderFile.RuntimeFile)))!["format_version"]!.GetValue<string>());

        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        using (var asFp32 = Int8Encoder.Load(folder, Fp32Embeddings))
            Assert.Equal(fp32.Forward(batch).ToArrays().Pooled, asFp32.Forward(batch).ToArrays().Pooled);
        using var asInt8 = Int8Encoder.Load(folder, new Int8EncoderOptions(Threads: 1));
        using var direct = EncoderToRuntime.Build(encoder, quantized, threads: 1);
        Assert.NotNull(asInt8.Weights.Int8WordEmbeddings);
        Assert.Equal(direct.Forward(batch).ToArrays().Pooled, asInt8.Forward(batch).ToArrays().Pooled);
    }

    [Fact]
    public void BadTablesAreNamed()
    {
        using var encoder = TinyModels.Encoder(seed: 36);
        var fp32 = EncoderToRuntime.Weights(encoder, Int8EncoderTests.Ptq(encoder));
        var int8 = fp32.WithInt8WordEmbeddings();
        Assert.Contains("given both as an int8 table and as a float tensor",
            Assert.Throws<DistillSharpException>(() => (int8 with { Fp32 = fp32.Fp32 }).Validate()).Message);
        var t = int8.Int8WordEmbeddings!;
        Assert.Contains("has shape [35, 31], expected [35, 32]",
            Assert.Throws<DistillSharpException>(() => (int8 with { Int8WordEmbeddings = t with { Cols = 31 } }).Validate()).Message);

        string folder = Path.Combine(_dir, "bad");
        Int8EncoderFile.Save(int8, folder);
        string path = Path.Combine(folder, Int8EncoderFile.Int8EmbeddingsFile);
        var (tensors, meta) = Safetensors.Read(path);
        tensors.Remove(Word + "_scale");
        Safetensors.Write(path, tensors, meta);
        Assert.Contains($"expected tensors '{Word}' and '{Word}_scale'", Assert.Throws<DistillSharpException>(() => Int8EncoderFile.Load(folder)).Message);
    }

    [Fact]
    [Trait("Category", "Slow")]   // ~6 s: builds, quantizes and writes a 17M-parameter model twice
    public void MiniLmSizedFolderIsAtMostThreeTenthsOfFp32()
    {
        // vocab 30522, hidden 384, 3 layers (12 heads, FFN 1536): a random MiniLM-L3-shaped student. The
        // fp32 reference is the model.safetensors HuggingFaceFolder.Save writes for the same model.
        var config = TinyModels.Config(layers: 3, hidden: 384, heads: 12, ffn: 1536) with { VocabSize = 30522, MaxPositionEmbeddings = 512 };
        using var encoder = TinyModels.Encoder(seed: 37, config);
        using var runtime = EncoderToRuntime.Build(encoder, Int8EncoderTests.Ptq(encoder), threads: 1);
        string int8Dir = Path.Combine(_dir, "int8"), fp32Dir = Path.Combine(_dir, "fp32");
        runtime.Save(int8Dir);
        HuggingFaceFolder.Save(encoder, fp32Dir);
        long int8Bytes = Int8EncoderFile.Bytes(int8Dir), fp32Bytes = new FileInfo(Path.Combine(fp32Dir, "model.safetensors")).Length;
        double ratio = (double)int8Bytes / fp32Bytes;
        string message = $"INT8 folder {int8Bytes / 1e6:F2} MB / fp32 model.safetensors {fp32Bytes / 1e6:F2} MB = {ratio:F3}";
        log.WriteLine(message);                                                 // measured 18.20 MB / 69.57 MB = 0.262
        Assert.True(ratio <= 0.3, message);
    }
}

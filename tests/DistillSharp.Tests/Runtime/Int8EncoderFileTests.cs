using System.Text.Json.Nodes;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using static DistillSharp.Tests.Export.ExportTestKit;
using DistillSharp.Quantization.Encoder;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Runtime;

/// <summary>Save/Load of the INT8 encoder folder, and loading from a run folder.</summary>
public sealed class Int8EncoderFileTests : IDisposable
{
    readonly string _dir = TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void SaveLoadRoundTripGivesIdenticalOutputs()
    {
        using var encoder = TinyModels.Encoder(seed: 21);
        var quantized = Int8EncoderTests.Ptq(encoder);
        using var original = EncoderToRuntime.Build(encoder, quantized, threads: 1);
        string folder = Path.Combine(_dir, "student-int8");
        original.Save(folder);
        foreach (string f in new[] { "quantized.safetensors", "fp32.safetensors", "config.json", "vocab.txt", "int8_runtime.json" })
            Assert.True(File.Exists(Path.Combine(folder, f)), f);
        Assert.True(Int8EncoderFile.Bytes(folder) > 0);

        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        var expected = original.Forward(batch).ToArrays();
        foreach (string path in new[] { folder, _dir })                  // the folder itself, or the run folder holding it
        {
            using var loaded = Int8Encoder.Load(path);
            Assert.Equal(original.Int8Layers, loaded.Int8Layers);
            Assert.Equal(encoder.Tokenizer.MaxLength, loaded.Tokenizer.MaxLength);
            var actual = loaded.Forward(loaded.Tokenizer.EncodeBatch(TinySentences)).ToArrays();
            Assert.Equal(expected.LastHiddenState, actual.LastHiddenState);
            Assert.Equal(expected.Pooled, actual.Pooled);
        }
    }

    [Fact]
    public void RunFolderWithOnlyQuantizedWeightsUsesItsStudent()
    {
        // What the pipeline wrote before the runtime existed: student/ (HF folder) + student-int8/quantized.safetensors.
        using var encoder = TinyModels.Encoder(seed: 22);
        var quantized = Int8EncoderTests.Ptq(encoder);
        HuggingFaceFolder.Save(encoder, Path.Combine(_dir, "student"));
        Directory.CreateDirectory(Path.Combine(_dir, "student-int8"));
        QuantizedModelFile.Save(quantized, Path.Combine(_dir, "student-int8", "quantized.safetensors"));
        using var direct = EncoderToRuntime.Build(encoder, quantized);
        using var loaded = new Int8Encoder(EncoderToRuntime.Load(_dir));
        var batch = encoder.Tokenizer.EncodeBatch(TinySentences);
        // The runtime alone (no libtorch) does not read this half-TorchSharp layout, and says what it expects.
        Assert.Contains("not an INT8 model", Assert.Throws<DistillSharpException>(() => Int8EncoderFile.Load(_dir)).Message);
        Assert.Equal(direct.Forward(batch).ToArrays().Pooled, loaded.Forward(batch).ToArrays().Pooled);
    }

    [Fact]
    public void BadFoldersAreNamed()
    {
        var e = Assert.Throws<DistillSharpException>(() => Int8Encoder.Load(_dir));
        Assert.Contains("not an INT8 model", e.Message);

        using var encoder = TinyModels.Encoder(seed: 23);
        using var runtime = EncoderToRuntime.Build(encoder, Int8EncoderTests.Ptq(encoder));
        string folder = Path.Combine(_dir, "m");
        runtime.Save(folder);
        string runtimeJson = Path.Combine(folder, "int8_runtime.json");
        var json = JsonNode.Parse(File.ReadAllText(runtimeJson))!.AsObject();
        json["pooling"] = "max";
        File.WriteAllText(runtimeJson, json.ToJsonString());
        Assert.Contains("pooling 'max' is unknown; allowed: mean, cls", Assert.Throws<DistillSharpException>(() => Int8Encoder.Load(folder)).Message);

        runtime.Save(folder);
        var (tensors, meta) = Safetensors.Read(Path.Combine(folder, "fp32.safetensors"));
        tensors.Remove("encoder.layer.1.output.LayerNorm.bias");
        Safetensors.Write(Path.Combine(folder, "fp32.safetensors"), tensors, meta);
        Assert.Contains("'encoder.layer.1.output.LayerNorm.bias' is missing",
            Assert.Throws<DistillSharpException>(() => Int8Encoder.Load(folder)).Message);
    }
}

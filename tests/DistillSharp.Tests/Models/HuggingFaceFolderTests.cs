using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Models;

public sealed class HuggingFaceFolderTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("hf-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("F32")]
    [InlineData("F16")]
    [InlineData("BF16")]
    public void SaveLoadSaveIsByteExact(string dtype)
    {
        using var encoder = TinyModels.Encoder(pooling: Pooling.Cls);
        string first = Path.Combine(_dir, "a"), second = Path.Combine(_dir, "b");
        HuggingFaceFolder.Save(encoder, first, dtype);
        using var loaded = HuggingFaceFolder.Load(first);
        HuggingFaceFolder.Save(loaded, second, dtype);

        Assert.Equal(File.ReadAllBytes(Path.Combine(first, "model.safetensors")), File.ReadAllBytes(Path.Combine(second, "model.safetensors")));
        Assert.Equal(Pooling.Cls, loaded.Pooling);
        Assert.True(loaded.Normalize);
        Assert.Equal(encoder.Tokenizer.MaxLength, loaded.Tokenizer.MaxLength);
        var (tensors, _) = Safetensors.Read(Path.Combine(first, "model.safetensors"));
        Assert.All(tensors.Values, t => Assert.Equal(dtype, t.Dtype));
        Assert.Contains("encoder.layer.1.attention.self.query.weight", tensors.Keys); // Hugging Face key names
        if (dtype == "F32")
        {
            string[] texts = ["the cat sat on the mat .", "a dog ran"];
            Assert.Equal(encoder.Embed(texts), loaded.Embed(texts));
        }
    }

    [Fact]
    public void ConfigJsonCarriesTheHuggingFaceFields()
    {
        using var encoder = TinyModels.Encoder();
        HuggingFaceFolder.Save(encoder, _dir);
        string json = File.ReadAllText(Path.Combine(_dir, "config.json"));
        foreach (string field in new[] { "\"model_type\": \"bert\"", "\"hidden_size\": 32", "\"num_hidden_layers\": 2", "\"num_attention_heads\": 4", "\"intermediate_size\": 64", "\"BertModel\"" })
            Assert.Contains(field, json);
        Assert.True(File.Exists(Path.Combine(_dir, "1_Pooling", "config.json")));
        Assert.Contains("Normalize", File.ReadAllText(Path.Combine(_dir, "modules.json")));
    }

    SafeTensor Replace(string key, Func<SafeTensor, SafeTensor> change)
    {
        using var encoder = TinyModels.Encoder();
        HuggingFaceFolder.Save(encoder, _dir);
        string path = Path.Combine(_dir, "model.safetensors");
        var (tensors, meta) = Safetensors.Read(path);
        var changed = change(tensors[key]);
        tensors[key] = changed;
        Safetensors.Write(path, tensors, meta);
        return changed;
    }

    [Fact]
    public void WrongShapeNamesTheTensorAndBothShapes()
    {
        Replace("encoder.layer.0.attention.self.query.weight", t => new SafeTensor("F32", [32, 31], new byte[32 * 31 * 4]));
        var e = Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("encoder.layer.0.attention.self.query.weight", e.Message);
        Assert.Contains("[32, 31]", e.Message);
        Assert.Contains("[32, 32]", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void WrongDtypeNamesTheTensor()
    {
        Replace("encoder.layer.0.output.dense.bias", t => new SafeTensor("I32", t.Shape, new byte[t.Data.Length]));
        var e = Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("encoder.layer.0.output.dense.bias", e.Message);
        Assert.Contains("I32", e.Message);
    }

    [Fact]
    public void MissingAndUnknownKeysAreNamed()
    {
        using var encoder = TinyModels.Encoder();
        HuggingFaceFolder.Save(encoder, _dir);
        string path = Path.Combine(_dir, "model.safetensors");
        var (tensors, meta) = Safetensors.Read(path);
        tensors.Remove("encoder.layer.1.output.LayerNorm.weight", out var removed);
        Safetensors.Write(path, tensors, meta);
        Assert.Contains("encoder.layer.1.output.LayerNorm.weight", Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(_dir)).Message);

        tensors["encoder.layer.1.output.LayerNorm.weight"] = removed!;
        tensors["encoder.layer.7.extra.weight"] = removed!;
        Safetensors.Write(path, tensors, meta);
        Assert.Contains("encoder.layer.7.extra.weight", Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(_dir)).Message);
    }

    [Fact]
    public void TruncatedFileIsReportedNotCrashed()
    {
        using var encoder = TinyModels.Encoder();
        HuggingFaceFolder.Save(encoder, _dir);
        string path = Path.Combine(_dir, "model.safetensors");
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var e = Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(_dir));
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("tensor '", e.Message);
    }

    [Fact]
    public void MissingFilesAreNamed()
    {
        var e = Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(Path.Combine(_dir, "nope")));
        Assert.Contains("nope", e.Message);
        using var encoder = TinyModels.Encoder();
        HuggingFaceFolder.Save(encoder, _dir);
        File.Delete(Path.Combine(_dir, "vocab.txt"));
        Assert.Contains("vocab.txt", Assert.Throws<DistillSharpException>(() => HuggingFaceFolder.Load(_dir)).Message);
    }
}

using System.Text.Json;
using DistillSharp.Models.Encoder;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Tests.Quantization;

/// <summary>`distill quantize` in-process on a tiny Hugging Face folder and a tiny text corpus.</summary>
public sealed class QuantizeCommandTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("quantizecmd-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    (string Model, string Corpus) Setup()
    {
        string model = Path.Combine(_dir, "model");
        using (var encoder = TinyModels.Encoder(seed: 2)) HuggingFaceFolder.Save(encoder, model);
        string corpus = Path.Combine(_dir, "corpus.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 200).Select(i =>
            string.Join(' ', Enumerable.Range(0, 3 + i % 11).Select(j => TinyModels.Words[(i * 5 + j * 7) % 26]))));
        return (model, corpus);
    }

    [Fact]
    public void WritesTheInt8FolderAndThePerLayerReport()
    {
        var (model, corpus) = Setup();
        string output = Path.Combine(_dir, "out");
        var (code, stdout, stderr) = CliHarness.Run("quantize", "--model", model, "--observer", "minmax", "--calib", "2",
            "--corpus", corpus, "--fallback-tolerance", "0.0", "--out", output);
        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout);
        Assert.True(Int8EncoderFile.IsFolder(output));
        var quantized = QuantizedModelFile.Load(Path.Combine(output, Int8EncoderFile.QuantizedFile));
        Assert.Equal(ActivationMode.Static, quantized.Mode);
        Assert.Equal("minmax", quantized.Observer);

        using var sensitivity = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "sensitivity.json")));
        var rows = sensitivity.RootElement.EnumerateArray().ToList();
        Assert.Contains(rows, r => r.GetProperty("layer").GetString() == "encoder.layer.1.output.dense");
        // Every encoder Linear changes the last hidden state a little; the pooler does not feed it (0).
        Assert.All(rows.Where(r => r.GetProperty("layer").GetString()!.StartsWith("encoder.")),
            r => Assert.True(r.GetProperty("rel_error").GetDouble() is > 0 and < 0.5));
        Assert.Contains("| encoder.layer.0.attention.self.query |", File.ReadAllText(Path.Combine(output, "sensitivity.md")));
        // Tolerance 0 on output-cosine: every layer that costs anything falls back to fp32, layer by layer from the worst.
        using var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "quantize.json")));
        int fp32 = summary.RootElement.GetProperty("layers_fp32").GetArrayLength();
        Assert.Equal(rows.Count, fp32 + quantized.Layers.Count);
        Assert.True(fp32 > 0);
    }

    [Fact]
    public void QatTrainsWithTheTeacherAndExportsStatic()
    {
        var (model, corpus) = Setup();
        string output = Path.Combine(_dir, "qat");
        var (code, _, stderr) = CliHarness.Run("quantize", "--model", model, "--teacher", model, "--observer", "percentile", "--calib", "2",
            "--qat", "--steps", "3", "--lr", "1e-3", "--corpus", corpus, "--out", output);
        Assert.True(code == 0, stderr);
        var quantized = QuantizedModelFile.Load(Path.Combine(output, Int8EncoderFile.QuantizedFile));
        Assert.Equal("moving_average_minmax", quantized.Observer);
        Assert.All(quantized.Layers.Values, l => Assert.NotNull(l.InputScale));
        Assert.Contains("\"step\":3", File.ReadAllLines(Path.Combine(output, "qat-run", "metrics.jsonl"))[^1]);
    }

    [Theory]
    [InlineData("--observer", "kl", "quantize.observer is 'kl'; allowed: minmax")]
    [InlineData("--learn-ranges", "adaround", "--learn-ranges 'adaround' is not known")]
    [InlineData("--fallback-metric", "accuracy", "--fallback-metric 'accuracy' is not known")]
    public void BadInputExitsWithTwo(string option, string value, string message)
    {
        var (code, _, stderr) = CliHarness.Run("quantize", "--model", "builtin:all-MiniLM-L6-v2", option, value, "--out", Path.Combine(_dir, "x"));
        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
    }
}

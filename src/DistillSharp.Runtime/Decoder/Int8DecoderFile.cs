using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Runtime.Decoder;

/// <summary>
/// The INT8 decoder's folder, readable without libtorch, in the layout of the encoder's <c>Int8EncoderFile</c>:
/// <c>quantized.safetensors</c> (<see cref="QuantizedModelFile"/>: int8 Linears with per-channel
/// scales and biases, lm_head included when it is int8), <c>fp32.safetensors</c> (RMSNorm weights,
/// float embeddings, fp32 Linears under their HF names), <c>int8_embeddings.safetensors</c> (the
/// token embeddings as int8 per row, unless they are the tied int8 lm_head's rows — then not stored
/// twice), <c>config.json</c> (the Hugging Face decoder config) and <c>int8_decoder.json</c>.
/// </summary>
public static class Int8DecoderFile
{
    /// <summary>Value of "format" in int8_decoder.json.</summary>
    public const string Format = "distillsharp-int8-decoder";
    /// <summary>Value of "format_version".</summary>
    public const string Version = "1";
    /// <summary>The marker file.</summary>
    public const string RuntimeFile = "int8_decoder.json";
    /// <summary>The folder name inside a run folder.</summary>
    public const string RunSubfolder = "student-int8";

    /// <summary>Writes <paramref name="weights"/> to <paramref name="dir"/> (created if needed; files replaced).</summary>
    public static void Save(Int8DecoderWeights weights, string dir)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        Directory.CreateDirectory(dir);
        QuantizedModelFile.Save(weights.Quantized, Path.Combine(dir, Int8Folder.QuantizedFile));
        var meta = new Dictionary<string, string> { ["format"] = Format + "-fp32", ["format_version"] = Version };
        Int8Folder.WriteFloats(Path.Combine(dir, Int8Folder.Fp32File), weights.Fp32, meta);
        string tablePath = Path.Combine(dir, Int8Folder.Int8EmbeddingsFile);
        bool shared = SharesLmHead(weights);
        if (weights.Int8Embeddings is { } table && !shared)
            Int8Folder.WriteTable(tablePath, weights.EmbeddingsName, table,
                new Dictionary<string, string> { ["format"] = Format + "-int8-embeddings", ["format_version"] = Version });
        else File.Delete(tablePath);
        AtomicFile.WriteText(Path.Combine(dir, Int8Folder.ConfigFile), weights.Config.ToJson());
        var runtime = new JsonObject
        {
            ["format"] = Format, ["format_version"] = Version,
            ["embeddings"] = weights.Int8Embeddings is null ? "fp32" : shared ? "lm_head" : "int8",
        };
        AtomicFile.WriteText(Path.Combine(dir, RuntimeFile), runtime.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    // True when the int8 embedding table is the tied int8 lm_head's weights (same values and scales).
    static bool SharesLmHead(Int8DecoderWeights w) =>
        w.Int8Embeddings is { } t && w.Config.TieWordEmbeddings && w.Quantized.Layers.TryGetValue(Int8DecoderWeights.LmHeadName, out var head)
        && t.Values.AsSpan().SequenceEqual(head.Weight) && t.Scales.AsSpan().SequenceEqual(head.WeightScale);

    /// <summary>True when <paramref name="dir"/> holds a saved INT8 decoder.</summary>
    public static bool IsFolder(string dir) => File.Exists(Path.Combine(dir, RuntimeFile));

    /// <summary>Bytes of the model files of a saved folder.</summary>
    public static long Bytes(string dir) =>
        new[] { Int8Folder.QuantizedFile, Int8Folder.Fp32File, Int8Folder.Int8EmbeddingsFile, Int8Folder.ConfigFile, RuntimeFile }
            .Select(f => Path.Combine(dir, f)).Where(File.Exists).Sum(f => new FileInfo(f).Length);

    /// <summary>Loads an INT8 decoder folder or a run folder's <c>student-int8/</c>.</summary>
    public static Int8DecoderWeights Load(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DistillSharpException("no INT8 decoder folder given");
        string dir = IsFolder(path) ? path : Path.Combine(path, RunSubfolder);
        string runtimePath = Path.Combine(dir, RuntimeFile);
        if (!File.Exists(runtimePath))
            throw new DistillSharpException($"{path}: not an INT8 decoder: expected {RuntimeFile} here or in {RunSubfolder}/");
        var runtime = InputFile.ReadJsonObject(runtimePath, RuntimeFile);
        string format = JsonKeys.String(runtime, "format", runtimePath) ?? "", version = JsonKeys.String(runtime, "format_version", runtimePath) ?? "";
        if (format != Format || version != Version)
            throw new DistillSharpException($"{runtimePath}: format '{format}' version '{version}'; expected '{Format}' version '{Version}'");
        foreach (string f in new[] { Int8Folder.QuantizedFile, Int8Folder.Fp32File, Int8Folder.ConfigFile })
            if (!File.Exists(Path.Combine(dir, f))) throw new DistillSharpException($"{dir}: missing {f}");
        var config = DecoderConfig.Load(Path.Combine(dir, Int8Folder.ConfigFile));
        var fp32 = Int8Folder.ReadFloats(Path.Combine(dir, Int8Folder.Fp32File));
        var quantized = QuantizedModelFile.Load(Path.Combine(dir, Int8Folder.QuantizedFile));
        Int8EmbeddingTable? table = (JsonKeys.String(runtime, "embeddings", runtimePath) ?? "fp32") switch
        {
            "fp32" => null,
            "int8" => Int8Folder.ReadTable(Path.Combine(dir, Int8Folder.Int8EmbeddingsFile), Int8DecoderWeights.EmbeddingsNameOf(config)),
            "lm_head" when quantized.Layers.TryGetValue(Int8DecoderWeights.LmHeadName, out var head) =>
                new Int8EmbeddingTable(head.Weight, head.WeightScale, head.OutFeatures, head.InFeatures),
            var e => throw new DistillSharpException($"{runtimePath}: embeddings '{e}' is unknown (or lm_head is not quantized); allowed: fp32, int8, lm_head"),
        };
        return new Int8DecoderWeights(config, fp32, quantized, table, dir).Validate();
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Quantization;

namespace DistillSharp.Runtime.Encoder;

/// <summary>
/// The INT8 runtime's folder (a run's <c>student-int8/</c>), readable without libtorch:
/// <c>quantized.safetensors</c> (<see cref="QuantizedModelFile"/>: int8 Linears),
/// <c>fp32.safetensors</c> (every other float tensor under its checkpoint name),
/// <c>int8_embeddings.safetensors</c> (the word embeddings as int8 per row, when the weights hold them so), <c>config.json</c>
/// (Hugging Face BertConfig), <c>vocab.txt</c> and <c>int8_runtime.json</c> (format, pooling,
/// normalisation, lower-casing, max length). Layout: docs/RUNTIME.md.
/// </summary>
public static class Int8EncoderFile
{
    /// <summary>Value of "format" in int8_runtime.json.</summary>
    public const string Format = "distillsharp-int8-encoder";
    /// <summary>Value of "format_version" of a folder with float word embeddings (readable by every reader).</summary>
    public const string Version = "1";
    /// <summary>Value of "format_version" of a folder with int8 word embeddings (<see cref="Int8EmbeddingsFile"/>).</summary>
    public const string Int8EmbeddingsVersion = "2";
    /// <summary>File names inside the folder.</summary>
    public const string QuantizedFile = Int8Folder.QuantizedFile, Fp32File = Int8Folder.Fp32File, ConfigFile = Int8Folder.ConfigFile,
        VocabFile = "vocab.txt", RuntimeFile = "int8_runtime.json", Int8EmbeddingsFile = Int8Folder.Int8EmbeddingsFile;
    /// <summary>Key of the per-row scales of an int8 table in <see cref="Int8EmbeddingsFile"/> (the values are under the table's own name).</summary>
    public const string ScaleSuffix = Int8Folder.ScaleSuffix;
    /// <summary>The folder name inside a run folder.</summary>
    public const string RunSubfolder = "student-int8";

    /// <summary>
    /// Writes <paramref name="weights"/> to <paramref name="dir"/> (created if needed; files replaced)
    /// with the word embeddings as they are held: an int8 table goes to <see cref="Int8EmbeddingsFile"/>.
    /// </summary>
    public static void Save(Int8EncoderWeights weights, string dir)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        Directory.CreateDirectory(dir);
        QuantizedModelFile.Save(weights.Quantized, Path.Combine(dir, QuantizedFile));
        string version = weights.Int8WordEmbeddings is null ? Version : Int8EmbeddingsVersion;
        Int8Folder.WriteFloats(Path.Combine(dir, Fp32File), weights.Fp32,
            new Dictionary<string, string> { ["format"] = Format + "-fp32", ["format_version"] = version });
        string int8Path = Path.Combine(dir, Int8EmbeddingsFile);
        if (weights.Int8WordEmbeddings is { } table)
            Int8Folder.WriteTable(int8Path, Int8EncoderWeights.WordEmbeddingsName, table,
                new Dictionary<string, string> { ["format"] = Format + "-int8-embeddings", ["format_version"] = version });
        else File.Delete(int8Path);                                   // a stale table would shadow the float one
        AtomicFile.WriteText(Path.Combine(dir, ConfigFile), weights.Config.ToJson());
        AtomicFile.WriteText(Path.Combine(dir, VocabFile), weights.Tokenizer.VocabText);
        var runtime = new JsonObject
        {
            ["format"] = Format, ["format_version"] = version,
            ["pooling"] = weights.Pooling == Pooling.Cls ? "cls" : "mean", ["normalize"] = weights.Normalize,
            ["do_lower_case"] = weights.Tokenizer.LowerCase, ["max_seq_length"] = weights.Tokenizer.MaxLength,
        };
        AtomicFile.WriteText(Path.Combine(dir, RuntimeFile), runtime.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>True when <paramref name="dir"/> holds a saved INT8 encoder.</summary>
    public static bool IsFolder(string dir) => File.Exists(Path.Combine(dir, RuntimeFile));

    /// <summary>
    /// Loads an INT8 encoder folder, or a run folder's <c>student-int8/</c>.
    /// <paramref name="maxLength"/> overrides the saved maximum sequence length.
    /// </summary>
    public static Int8EncoderWeights Load(string path, int? maxLength = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DistillSharpException("no INT8 model given");
        if (IsFolder(path)) return LoadFolder(path, maxLength);
        string sub = Path.Combine(path, RunSubfolder);
        if (IsFolder(sub)) return LoadFolder(sub, maxLength);
        throw new DistillSharpException(
            $"{path}: not an INT8 model: expected {RuntimeFile} with {QuantizedFile}, {Fp32File}, {ConfigFile} and {VocabFile} " +
            $"in it or in {RunSubfolder}/");
    }

    /// <summary>Bytes of the model files of a saved folder (what a deployment ships).</summary>
    public static long Bytes(string dir) =>
        new[] { QuantizedFile, Fp32File, Int8EmbeddingsFile, ConfigFile, VocabFile, RuntimeFile }.Select(f => Path.Combine(dir, f))
            .Where(File.Exists).Sum(f => new FileInfo(f).Length);

    static Int8EncoderWeights LoadFolder(string dir, int? maxLength)
    {
        string runtimePath = Path.Combine(dir, RuntimeFile);
        var runtime = InputFile.ReadJsonObject(runtimePath, RuntimeFile);
        string format = JsonKeys.String(runtime, "format", runtimePath) ?? "";
        string version = JsonKeys.String(runtime, "format_version", runtimePath) ?? "";
        if (format != Format || version is not (Version or Int8EmbeddingsVersion))
            throw new DistillSharpException(
                $"{runtimePath}: format '{format}' version '{version}'; expected '{Format}' version '{Version}' or '{Int8EmbeddingsVersion}'");
        foreach (string f in new[] { QuantizedFile, Fp32File, ConfigFile, VocabFile })
            if (!File.Exists(Path.Combine(dir, f))) throw new DistillSharpException($"{dir}: missing {f}");
        string configPath = Path.Combine(dir, ConfigFile);
        var config = BertConfig.Load(configPath);
        var pooling = (JsonKeys.String(runtime, "pooling", runtimePath) ?? "mean") switch
        {
            "mean" => Pooling.Mean,
            "cls" => Pooling.Cls,
            var p => throw new DistillSharpException($"{runtimePath}: pooling '{p}' is unknown; allowed: mean, cls"),
        };
        int? declared = JsonKeys.Int(runtime, "max_seq_length", runtimePath);
        if (declared is < 3 || declared > config.MaxPositionEmbeddings)
            throw new DistillSharpException($"{runtimePath}: max_seq_length {declared} must be in [3, {config.MaxPositionEmbeddings}] (max_position_embeddings of {configPath})");
        int length = maxLength ?? declared ?? Math.Min(512, config.MaxPositionEmbeddings);
        string vocabPath = Path.Combine(dir, VocabFile);
        var tokenizer = new BertTextTokenizer(InputFile.ReadText(vocabPath, InputFile.ConfigBytes, VocabFile), JsonKeys.Bool(runtime, "do_lower_case", runtimePath) ?? true,
            length, vocabPath);
        tokenizer.CheckFits(config.VocabSize, config.MaxPositionEmbeddings, dir);
        bool normalize = JsonKeys.Bool(runtime, "normalize", runtimePath) ?? true;
        var fp32 = Int8Folder.ReadFloats(Path.Combine(dir, Fp32File));
        var quantized = QuantizedModelFile.Load(Path.Combine(dir, QuantizedFile));
        string int8Path = Path.Combine(dir, Int8EmbeddingsFile);
        var int8Table = File.Exists(int8Path) ? Int8Folder.ReadTable(int8Path, Int8EncoderWeights.WordEmbeddingsName) : null;
        return new Int8EncoderWeights(config, fp32, quantized, tokenizer, pooling, normalize, dir, int8Table).Validate();
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Quantization;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Runtime.Static;

/// <summary>
/// A static encoder's folder (a run's <c>student-static/</c>), readable without libtorch:
/// <c>static.safetensors</c> (the table as I8 [vocab, dims] <c>embeddings</c> with F32 [vocab]
/// <c>embeddings_scale</c>; row r = values[r] · scale[r]), <c>vocab.txt</c> and
/// <c>static_runtime.json</c> (format, normalisation, lower-casing, max length, and how the table
/// was built). Layout: docs/STATIC.md.
/// </summary>
public static class StaticEncoderFile
{
    /// <summary>Value of "format" in static_runtime.json.</summary>
    public const string Format = "distillsharp-static-encoder";
    /// <summary>Value of "format_version".</summary>
    public const string Version = "1";
    /// <summary>File names inside the folder.</summary>
    public const string TableFile = "static.safetensors", VocabFile = "vocab.txt", RuntimeFile = "static_runtime.json";
    /// <summary>Name of the table tensor (its scales: + <see cref="Int8Folder.ScaleSuffix"/>).</summary>
    public const string TableName = "embeddings";
    /// <summary>The folder name inside a run folder.</summary>
    public const string RunSubfolder = "student-static";

    /// <summary>Writes <paramref name="encoder"/> to <paramref name="dir"/> (created if needed); <paramref name="build"/> lands in static_runtime.json as "build".</summary>
    public static void Save(StaticEncoder encoder, string dir, IReadOnlyDictionary<string, string>? build = null)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        Directory.CreateDirectory(dir);
        var meta = new Dictionary<string, string> { ["format"] = Format, ["format_version"] = Version };
        Int8Folder.WriteTable(Path.Combine(dir, TableFile), TableName, encoder.Table, meta);
        AtomicFile.WriteText(Path.Combine(dir, VocabFile), encoder.Tokenizer.VocabText);
        var runtime = new JsonObject
        {
            ["format"] = Format, ["format_version"] = Version, ["dims"] = encoder.Dimensions, ["normalize"] = encoder.Normalize,
            ["do_lower_case"] = encoder.Tokenizer.LowerCase, ["max_seq_length"] = encoder.Tokenizer.MaxLength,
        };
        if (build is not null) runtime["build"] = new JsonObject(build.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));
        AtomicFile.WriteText(Path.Combine(dir, RuntimeFile), runtime.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>True when <paramref name="dir"/> holds a saved static encoder.</summary>
    public static bool IsFolder(string dir) => File.Exists(Path.Combine(dir, RuntimeFile));

    /// <summary>Loads a static encoder folder, or a run folder's <c>student-static/</c>.</summary>
    public static StaticEncoder Load(string path, int? maxLength = null)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DistillSharpException("no static model given");
        string dir = IsFolder(path) ? path : Path.Combine(path, RunSubfolder);
        if (!IsFolder(dir))
            throw new DistillSharpException($"{path}: not a static model: expected {RuntimeFile} with {TableFile} and {VocabFile} in it or in {RunSubfolder}/");
        string runtimePath = Path.Combine(dir, RuntimeFile);
        var runtime = JsonKeys.ParseObject(File.ReadAllText(runtimePath), runtimePath);
        string format = JsonKeys.String(runtime, "format", runtimePath) ?? "";
        string version = JsonKeys.String(runtime, "format_version", runtimePath) ?? "";
        if (format != Format || version != Version)
            throw new DistillSharpException($"{runtimePath}: format '{format}' version '{version}'; expected '{Format}' version '{Version}'");
        foreach (string f in new[] { TableFile, VocabFile })
            if (!File.Exists(Path.Combine(dir, f))) throw new DistillSharpException($"{dir}: missing {f}");
        int length = maxLength ?? JsonKeys.Int(runtime, "max_seq_length", runtimePath) ?? 512;
        if (length < 3) throw new DistillSharpException($"{runtimePath}: max_seq_length must be >= 3, got {length}");
        string vocabPath = Path.Combine(dir, VocabFile);
        var tokenizer = new BertTextTokenizer(File.ReadAllText(vocabPath), JsonKeys.Bool(runtime, "do_lower_case", runtimePath) ?? true, length, vocabPath);
        string tablePath = Path.Combine(dir, TableFile);
        var table = Int8Folder.ReadTable(tablePath, TableName);
        if (table.Rows != tokenizer.VocabSize)
            throw new DistillSharpException($"{tablePath}: tensor '{TableName}' has {table.Rows} rows, {VocabFile} {tokenizer.VocabSize} tokens");
        if (JsonKeys.Int(runtime, "dims", runtimePath) is int dims && dims != table.Cols)
            throw new DistillSharpException($"{runtimePath}: dims {dims}, but tensor '{TableName}' has {table.Cols} columns");
        return new StaticEncoder(tokenizer, table, JsonKeys.Bool(runtime, "normalize", runtimePath) ?? true, dir);
    }

    /// <summary>Bytes of the model files of a saved folder (what a deployment ships).</summary>
    public static long Bytes(string dir) =>
        new[] { TableFile, VocabFile, RuntimeFile }.Select(f => Path.Combine(dir, f)).Where(File.Exists).Sum(f => new FileInfo(f).Length);
}

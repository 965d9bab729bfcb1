using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Models.Checkpoints;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Tokenization;
using static TorchSharp.torch;
using DistillSharp.Runtime.Decoder;

namespace DistillSharp.Models.Decoder;

/// <summary>
/// Loads and saves decoder LMs as Hugging Face folders: config.json, generation_config.json,
/// model.safetensors (or shards + index), and tokenizer.json with tokenizer_config.json when there
/// is a tokenizer. transformers' AutoModelForCausalLM / AutoTokenizer read the result.
/// </summary>
public static class DecoderFolder
{
    /// <summary>
    /// The folder holding the model: <paramref name="dir"/> itself when it has config.json, else its
    /// student/ subfolder (a run folder).
    /// </summary>
    public static string ResolveModelDir(string dir)
    {
        if (!Directory.Exists(dir)) throw new DistillSharpException($"{dir}: folder not found");
        if (File.Exists(Path.Combine(dir, "config.json"))) return dir;
        string student = Path.Combine(dir, "student");
        if (File.Exists(Path.Combine(student, "config.json"))) return student;
        throw new DistillSharpException($"{dir}: no config.json here or in student/ (expected a Hugging Face decoder folder or a run folder)");
    }

    /// <summary>Loads the model (eval mode, float32) and the tokenizer when tokenizer.json is present.</summary>
    public static (CausalLm Model, DecoderTokenizer? Tokenizer) Load(string dir)
    {
        dir = ResolveModelDir(dir);
        var config = DecoderConfig.Load(Path.Combine(dir, "config.json"));
        var tokenizer = File.Exists(Path.Combine(dir, "tokenizer.json")) ? DecoderTokenizer.Load(dir) : null;
        if (tokenizer is not null && tokenizer.VocabSize > config.VocabSize)
            throw new DistillSharpException($"{dir}: tokenizer.json has {tokenizer.VocabSize:N0} ids but the embedding table only {config.VocabSize:N0} rows (vocab_size); they do not belong together");
        var tensors = DecoderWeights.Read(dir);
        CheckShapes(tensors, config, dir);
        string source = DecoderWeights.Source(dir);
        foreach (var (name, t) in tensors) t.RequireFinite($"{source}: tensor '{name}'");
        var model = DecoderModels.Create(config);
        try
        {
            // Tied checkpoints may or may not carry lm_head.weight; GPT-2 files may carry the old causal-mask buffers.
            var ignore = tensors.Keys.Where(k => (config.TieWordEmbeddings && k == "lm_head.weight") ||
                                                 (config.IsGpt2 && (k.EndsWith(".attn.bias") || k.EndsWith(".attn.masked_bias"))));
            StateDict.Load(model, tensors, source, ignore);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return (model, tokenizer);
    }

    // The token embedding must match config.json before a model of the config's size is allocated.
    static void CheckShapes(Dictionary<string, SafeTensor> tensors, DecoderConfig config, string dir)
    {
        string name = config.IsGpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
        if (tensors.TryGetValue(name, out var t) && !t.Shape.SequenceEqual(new long[] { config.VocabSize, config.HiddenSize }))
            throw new DistillSharpException($"{dir}: tensor '{name}' has shape {t.ShapeText}, config.json needs [{config.VocabSize}, {config.HiddenSize}]");
    }

    /// <summary>
    /// Saves float32 weights (sharded when larger than <paramref name="maxShardBytes"/>), config.json,
    /// generation_config.json and the tokenizer files.
    /// </summary>
    public static void Save(CausalLm model, DecoderTokenizer? tokenizer, string dir, long maxShardBytes = long.MaxValue)
    {
        Directory.CreateDirectory(dir);
        var tensors = new Dictionary<string, SafeTensor>();
        foreach (var (name, t) in model.state_dict())
        {
            using var f = t.to_type(ScalarType.Float32);
            tensors[name] = TorchSafetensors.FromTensor(f);
        }
        DecoderWeights.Write(dir, tensors, maxShardBytes);
        var config = model.Config;
        AtomicFile.WriteText(Path.Combine(dir, "config.json"), config.ToJson());
        var generation = new JsonObject
        {
            ["bos_token_id"] = config.BosTokenId,
            ["eos_token_id"] = config.EosTokenIds.Count == 1 ? config.EosTokenIds[0] : new JsonArray(config.EosTokenIds.Select(e => (JsonNode)e).ToArray()),
        };
        if (config.PadTokenId is { } pad) generation["pad_token_id"] = pad;
        AtomicFile.WriteText(Path.Combine(dir, "generation_config.json"), generation.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        tokenizer?.Save(dir);
    }
}

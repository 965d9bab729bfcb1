using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// Hugging Face config.json files of the wrong shape, type or range: the encoder folder's (embed),
/// the INT8 folder's (bench --runtime int8) and the decoder folder's (generate). The error must name
/// the file and the key.
/// </summary>
public sealed class ModelConfigCases : IBadInputGenerator
{
    public string Category => "config.json";

    // (name, edit of the config.json at the path, culprit key or text)
    static IEnumerable<(string Name, Action<string> Edit, string Culprit)> EncoderEdits()
    {
        yield return ("is an array", p => File.WriteAllText(p, "[1, 2]"), "config.json");
        yield return ("is a string", p => File.WriteAllText(p, "\"bert\""), "config.json");
        yield return ("not JSON", p => File.WriteAllText(p, "{\"hidden_size\": "), "config.json");
        yield return ("empty", p => File.WriteAllText(p, ""), "config.json");
        yield return ("duplicate key", p => File.WriteAllText(p, File.ReadAllText(p).Replace("{", "{\"hidden_size\": 64,", StringComparison.Ordinal)), "config.json");
        yield return ("nested 10000 deep", p => File.WriteAllText(p, new string('[', 10000) + new string(']', 10000)), "config.json");
        yield return ("symlink to /dev/zero", p => Link(p, "/dev/zero"), "config.json");
        yield return ("sparse 100 MB", p => Sparse(p, 100L << 20), "config.json");
        yield return ("hidden_size as a string", p => SetKey(p, "hidden_size", "\"32\""), "hidden_size");
        yield return ("hidden_size missing", p => SetKey(p, "hidden_size", null), "hidden_size");
        yield return ("vocab_size missing", p => SetKey(p, "vocab_size", null), "vocab_size");
        yield return ("num_hidden_layers 0", p => SetKey(p, "num_hidden_layers", "0"), "num_hidden_layers");
        yield return ("num_hidden_layers -1", p => SetKey(p, "num_hidden_layers", "-1"), "num_hidden_layers");
        yield return ("num_hidden_layers 1.5", p => SetKey(p, "num_hidden_layers", "1.5"), "num_hidden_layers");
        yield return ("max_position_embeddings 1e12", p => SetKey(p, "max_position_embeddings", "1e12"), "max_position_embeddings");
        yield return ("max_position_embeddings 2^31", p => SetKey(p, "max_position_embeddings", "2147483648"), "max_position_embeddings");
        yield return ("max_position_embeddings 10^6", p => SetKey(p, "max_position_embeddings", "1000000"), "max_position_embeddings");
        yield return ("num_attention_heads does not divide", p => SetKey(p, "num_attention_heads", "5"), "num_attention_heads");
        yield return ("intermediate_size negative", p => SetKey(p, "intermediate_size", "-64"), "intermediate_size");
        yield return ("hidden_act unknown", p => SetKey(p, "hidden_act", "\"telepathy\""), "hidden_act");
        yield return ("hidden_act a number", p => SetKey(p, "hidden_act", "3"), "hidden_act");
        yield return ("layer_norm_eps 0", p => SetKey(p, "layer_norm_eps", "0"), "layer_norm_eps");
        yield return ("layer_norm_eps a string", p => SetKey(p, "layer_norm_eps", "\"1e-12\""), "layer_norm_eps");
        yield return ("model_type gpt2", p => SetKey(p, "model_type", "\"gpt2\""), "model_type");
        yield return ("model_type a number", p => SetKey(p, "model_type", "7"), "model_type");
        yield return ("hidden_dropout_prob 1.5", p => SetKey(p, "hidden_dropout_prob", "1.5"), "hidden_dropout_prob");
        yield return ("pad_token_id outside the vocabulary", p => SetKey(p, "pad_token_id", "999"), "pad_token_id");
        yield return ("type_vocab_size 0", p => SetKey(p, "type_vocab_size", "0"), "type_vocab_size");
        yield return ("initializer_range negative", p => SetKey(p, "initializer_range", "-1"), "initializer_range");
        yield return ("distillsharp_has_pooler a string", p => SetKey(p, "distillsharp_has_pooler", "\"yes\""), "distillsharp_has_pooler");
        yield return ("vocab_size larger than the weights", p => SetKey(p, "vocab_size", "4000000"), "word_embeddings");
        yield return ("a model too large for memory", p => EditJson(p, o =>
        {
            o["hidden_size"] = 16384;
            o["num_attention_heads"] = 64;
            o["intermediate_size"] = 65536;
            o["num_hidden_layers"] = 256;
        }), "parameters");
    }

    static IEnumerable<(string Name, Action<string> Edit, string Culprit)> DecoderEdits()
    {
        yield return ("is an array", p => File.WriteAllText(p, "[]"), "config.json");
        yield return ("not JSON", p => File.WriteAllText(p, "{,}"), "config.json");
        yield return ("model_type missing", p => SetKey(p, "model_type", null), "model_type");
        yield return ("model_type unknown", p => SetKey(p, "model_type", "\"mamba\""), "model_type");
        yield return ("hidden_size as a string", p => SetKey(p, "hidden_size", "\"32\""), "hidden_size");
        yield return ("intermediate_size missing", p => SetKey(p, "intermediate_size", null), "intermediate_size");
        yield return ("num_key_value_heads does not divide", p => SetKey(p, "num_key_value_heads", "3"), "num_key_value_heads");
        yield return ("head_dim odd", p => SetKey(p, "head_dim", "7"), "head_dim");
        yield return ("rope_theta 0", p => SetKey(p, "rope_theta", "0"), "rope_theta");
        yield return ("rope_scaling a string", p => SetKey(p, "rope_scaling", "\"linear\""), "rope_scaling");
        yield return ("eos_token_id outside the vocabulary", p => SetKey(p, "eos_token_id", "100000"), "eos_token_id");
        yield return ("eos_token_id a list of strings", p => SetKey(p, "eos_token_id", "[\"a\"]"), "eos_token_id");
        yield return ("tie_word_embeddings a string", p => SetKey(p, "tie_word_embeddings", "\"true\""), "tie_word_embeddings");
        yield return ("max_position_embeddings 1e12", p => SetKey(p, "max_position_embeddings", "1e12"), "max_position_embeddings");
        yield return ("num_hidden_layers 100000", p => SetKey(p, "num_hidden_layers", "100000"), "num_hidden_layers");
        yield return ("vocab_size 0", p => SetKey(p, "vocab_size", "0"), "vocab_size");
        yield return ("hidden_act unknown", p => SetKey(p, "hidden_act", "\"swish2\""), "hidden_act");
        yield return ("hidden_size not the weights'", p => SetKey(p, "hidden_size", "64"), "embed_tokens");
        yield return ("vocab_size smaller than the tokenizer", p => SetKey(p, "vocab_size", "50"), "vocab_size");
    }

    static readonly HashSet<string> Int8Sample = ["is an array", "hidden_size as a string", "hidden_size missing", "max_position_embeddings 1e12",
        "num_attention_heads does not divide", "hidden_act unknown", "a model too large for memory", "symlink to /dev/zero"];

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        foreach (var (name, edit, culprit) in EncoderEdits())
            yield return Case(Category, "encoder: " + name, dir =>
            {
                string model = CopyModel(m.EncoderDir, dir);
                edit(Path.Combine(model, "config.json"));
                return ["embed", "--model", model, "hello"];
            }, "config.json", culprit);
        foreach (var (name, edit, culprit) in EncoderEdits().Where(e => Int8Sample.Contains(e.Name)))
            yield return Case(Category, "int8: " + name, dir =>
            {
                string model = CopyModel(m.Int8Dir, dir);
                edit(Path.Combine(model, "config.json"));
                return ["bench", "--model", model, "--runtime", "int8", "--batch", "1", "--seq", "8", "--runs", "1"];
            }, "config.json", culprit);
        foreach (var (name, edit, culprit) in DecoderEdits())
            yield return Case(Category, "decoder: " + name, dir =>
            {
                string model = CopyModel(m.DecoderDir, dir);
                edit(Path.Combine(model, "config.json"));
                return ["generate", "--model", model, "--prompt", "a", "--max-new-tokens", "1"];
            }, culprit);
    }
}

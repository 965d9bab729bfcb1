using System.Text.Json.Nodes;
using static DistillSharp.Tests.Robustness.Generators.CaseKit;

namespace DistillSharp.Tests.Robustness.Generators;

/// <summary>
/// Tokenizer files that do not fit their model or are not what they claim: the encoder's vocab.txt
/// and tokenizer configs (embed), the decoder's tokenizer.json and special tokens (generate).
/// </summary>
public sealed class TokenizerCases : IBadInputGenerator
{
    public string Category => "tokenizer";

    static IEnumerable<(string Name, string File, Action<string> Edit, string Culprit)> EncoderEdits()
    {
        yield return ("vocab.txt larger than the embedding table", "vocab.txt",
            p => File.AppendAllLines(p, Enumerable.Range(0, 1000).Select(i => $"extra{i}")), "embedding table");
        yield return ("vocab.txt without [CLS]", "vocab.txt", p => File.WriteAllText(p, File.ReadAllText(p).Replace("[CLS]\n", "")), "[CLS]");
        yield return ("vocab.txt empty", "vocab.txt", p => File.WriteAllText(p, ""), "vocab.txt");
        yield return ("vocab.txt in Latin-1", "vocab.txt", p => File.WriteAllBytes(p, [.. File.ReadAllBytes(p), .. Latin1("caf\u00e9\n")]), "UTF-8");
        yield return ("vocab.txt binary", "vocab.txt", p => File.WriteAllBytes(p, [0, 1, 2, 3, 0, 255]), "vocab.txt");
        yield return ("vocab.txt symlink to /dev/zero", "vocab.txt", p => Link(p, "/dev/zero"), "vocab.txt");
        yield return ("vocab.txt missing", "vocab.txt", File.Delete, "vocab.txt");
        yield return ("vocab.txt a named pipe", "vocab.txt", Fifo, "vocab.txt");
        yield return ("tokenizer_config.json not JSON", "tokenizer_config.json", p => File.WriteAllText(p, "{"), "tokenizer_config.json");
        yield return ("do_lower_case a string", "tokenizer_config.json", p => SetKey(p, "do_lower_case", "\"yes\""), "do_lower_case");
        yield return ("model_max_length a string", "tokenizer_config.json", p => SetKey(p, "model_max_length", "\"32\""), "model_max_length");
        yield return ("max_seq_length a string", "sentence_bert_config.json", p => SetKey(p, "max_seq_length", "\"32\""), "max_seq_length");
        yield return ("max_seq_length 1", "sentence_bert_config.json", p => SetKey(p, "max_seq_length", "1"), "max_seq_length");
        yield return ("pooling_mode_cls_token a string", Path.Combine("1_Pooling", "config.json"), p => SetKey(p, "pooling_mode_cls_token", "\"true\""), "pooling_mode_cls_token");
        yield return ("pooling config an array", Path.Combine("1_Pooling", "config.json"), p => File.WriteAllText(p, "[true]"), "config.json");
        yield return ("modules.json symlink to /dev/zero", "modules.json", p => Link(p, "/dev/zero"), "modules.json");
    }

    static void EditTokenizer(string path, Action<JsonObject> edit) => EditJson(path, edit);

    static IEnumerable<(string Name, string File, Action<string> Edit, string Culprit)> DecoderEdits()
    {
        yield return ("tokenizer.json not JSON", "tokenizer.json", p => File.WriteAllText(p, "{\"model\": "), "tokenizer.json");
        yield return ("tokenizer.json an array", "tokenizer.json", p => File.WriteAllText(p, "[]"), "tokenizer.json");
        yield return ("tokenizer.json truncated", "tokenizer.json", p => File.WriteAllText(p, File.ReadAllText(p)[..(int)(new FileInfo(p).Length / 2)]), "tokenizer.json");
        yield return ("model.vocab not an object", "tokenizer.json", p => EditTokenizer(p, o => o["model"]!["vocab"] = new JsonArray()), "model.vocab");
        yield return ("a vocab id negative", "tokenizer.json", p => EditTokenizer(p, o => o["model"]!["vocab"]!["a"] = -1), "model.vocab");
        yield return ("a vocab id 2^31", "tokenizer.json", p => EditTokenizer(p, o => o["model"]!["vocab"]!["a"] = 2147483648L), "model.vocab");
        yield return ("a vocab id a string", "tokenizer.json", p => EditTokenizer(p, o => o["model"]!["vocab"]!["a"] = "3"), "model.vocab");
        yield return ("merges of numbers", "tokenizer.json", p => EditTokenizer(p, o => o["model"]!["merges"] = new JsonArray(new JsonArray(1, 2))), "merge");
        yield return ("added_tokens not objects", "tokenizer.json", p => EditTokenizer(p, o => o["added_tokens"] = new JsonArray(5)), "added_tokens");
        yield return ("pre_tokenizer unknown", "tokenizer.json", p => EditTokenizer(p, o => o["pre_tokenizer"] = new JsonObject { ["type"] = "Whitespace" }), "pre_tokenizer");
        yield return ("pre_tokenizer regex invalid", "tokenizer.json", p => EditTokenizer(p, o => o["pre_tokenizer"] = JsonNode.Parse(
            "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"}},{\"type\":\"ByteLevel\",\"use_regex\":false}]}")), "tokenizer.json");
        yield return ("normalizer unknown", "tokenizer.json", p => EditTokenizer(p, o => o["normalizer"] = new JsonObject { ["type"] = "NFKD" }), "normalizer");
        yield return ("ids past the embedding table", "tokenizer.json", p => EditTokenizer(p, o => o["model"]!["vocab"]!["zzzz"] = 5000), "vocab_size");
        yield return ("tokenizer.json symlink to /dev/zero", "tokenizer.json", p => Link(p, "/dev/zero"), "tokenizer.json");
        yield return ("add_bos_token a string", "tokenizer_config.json", p => SetKey(p, "add_bos_token", "\"yes\""), "add_bos_token");
        yield return ("bos_token not in the vocabulary", "tokenizer_config.json", p => SetKey(p, "bos_token", "\"<zzz>\""), "bos_token");
    }

    public IEnumerable<BadInputCase> Cases(RobustnessModels m)
    {
        foreach (var (name, file, edit, culprit) in EncoderEdits())
            yield return Case(Category, "encoder: " + name, dir =>
            {
                string model = CopyModel(m.EncoderDir, dir);
                edit(Path.Combine(model, file));
                return ["embed", "--model", model, "hello"];
            }, culprit);
        foreach (var (name, file, edit, culprit) in DecoderEdits())
            yield return Case(Category, "decoder: " + name, dir =>
            {
                string model = CopyModel(m.DecoderDir, dir);
                edit(Path.Combine(model, file));
                return ["generate", "--model", model, "--prompt", "a", "--max-new-tokens", "1"];
            }, culprit);
    }
}

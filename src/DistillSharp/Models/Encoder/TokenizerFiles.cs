using System.Text.Json;
using System.Text.Json.Nodes;
using DistillSharp.Runtime.Formats;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Models.Encoder;

/// <summary>
/// The WordPiece tokenizer files of a Hugging Face BERT folder — vocab.txt, tokenizer_config.json,
/// special_tokens_map.json — written and read the same way for sentence encoders and classifiers.
/// </summary>
public static class TokenizerFiles
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the three files into <paramref name="dir"/> (which must exist).</summary>
    public static void Save(BertTextTokenizer tok, string dir)
    {
        AtomicFile.WriteText(Path.Combine(dir, "vocab.txt"), tok.VocabText);
        WriteJson(dir, "tokenizer_config.json", new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer", ["do_lower_case"] = tok.LowerCase, ["strip_accents"] = null,
            ["tokenize_chinese_chars"] = true, ["model_max_length"] = tok.MaxLength,
            ["cls_token"] = "[CLS]", ["sep_token"] = "[SEP]", ["pad_token"] = "[PAD]", ["unk_token"] = "[UNK]", ["mask_token"] = "[MASK]",
        });
        WriteJson(dir, "special_tokens_map.json", new JsonObject
        {
            ["cls_token"] = "[CLS]", ["sep_token"] = "[SEP]", ["pad_token"] = "[PAD]", ["unk_token"] = "[UNK]", ["mask_token"] = "[MASK]",
        });
    }

    /// <summary>
    /// Reads the tokenizer of <paramref name="dir"/>: lower-casing from tokenizer_config.json (default
    /// true), the maximum length from <paramref name="maxLength"/>, else <paramref name="declaredLength"/>
    /// (sentence-transformers' max_seq_length), else model_max_length, else 512 — never more than
    /// <paramref name="maxPositions"/>.
    /// </summary>
    public static BertTextTokenizer Load(string dir, int maxPositions, int? maxLength = null, long? declaredLength = null)
    {
        string vocabPath = Path.Combine(dir, "vocab.txt");
        if (!File.Exists(vocabPath)) throw new DistillSharpException($"{dir}: missing vocab.txt");
        var tokConfig = ReadJson(Path.Combine(dir, "tokenizer_config.json"));
        bool lower = tokConfig?["do_lower_case"]?.GetValue<bool>() ?? true;
        long declared = declaredLength ?? tokConfig?["model_max_length"]?.GetValue<long>() ?? 512;
        int length = maxLength ?? (int)Math.Min(declared, maxPositions);
        return new BertTextTokenizer(InputFile.ReadText(vocabPath, InputFile.ConfigBytes, "vocab.txt"), lower, length, vocabPath);
    }

    /// <summary>Writes <paramref name="o"/> indented to <paramref name="dir"/>/<paramref name="name"/>.</summary>
    internal static void WriteJson(string dir, string name, JsonObject o) =>
        AtomicFile.WriteText(Path.Combine(dir, name), o.ToJsonString(Indented));

    /// <summary>The JSON object in <paramref name="path"/> (a bounded read), or null when the file does not exist.</summary>
    internal static JsonObject? ReadJson(string path) =>
        File.Exists(path) || Directory.Exists(path) ? InputFile.ReadJsonObject(path, Path.GetFileName(path)) : null;
}

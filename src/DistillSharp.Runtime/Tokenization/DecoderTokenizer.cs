using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DistillSharp.Runtime.Formats;
using Microsoft.ML.Tokenizers;

namespace DistillSharp.Runtime.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer (GPT-2, Qwen2, SmolLM style) read from Hugging Face's tokenizer.json
/// (model.vocab, model.merges, added_tokens, pre_tokenizer) with tokenizer_config.json naming the
/// special tokens. Encoding runs on Microsoft.ML.Tokenizers' BpeTokenizer fed from those contents;
/// decoding maps ids back to bytes directly, so any UTF-8 text round-trips exactly.
/// </summary>
public sealed class DecoderTokenizer
{
    readonly string _tokenizerJson;
    readonly BpeTokenizer _bpe;
    readonly string?[] _idToToken;
    readonly HashSet<int> _added;
    readonly bool _nfc;
    readonly bool _addPrefixSpace;

    /// <summary>Ids in [0, VocabSize) (vocabulary plus added tokens).</summary>
    public int VocabSize { get; }
    /// <summary>Beginning-of-sequence id, if the tokenizer has one.</summary>
    public int? BosId { get; }
    /// <summary>End-of-sequence id, if the tokenizer has one.</summary>
    public int? EosId { get; }
    /// <summary>Padding id, if the tokenizer has one.</summary>
    public int? PadId { get; }
    /// <summary>Whether prompts get BOS prepended by default (tokenizer_config.json add_bos_token).</summary>
    public bool AddBosToken { get; }
    /// <summary>Tokens matched literally before BPE.</summary>
    public IReadOnlyList<AddedToken> AddedTokens { get; }
    /// <summary>The pre-tokenization regex.</summary>
    public string PreTokenizerPattern { get; }

    /// <summary>HF's ByteLevel pre-tokenizer regex (GPT-2).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>
    /// Builds a tokenizer from tokenizer.json text and special-token names; <paramref name="source"/>
    /// names the file in errors.
    /// </summary>
    public DecoderTokenizer(string tokenizerJson, string? bosToken, string? eosToken, string? padToken, bool addBosToken, string source = "tokenizer.json")
    {
        _tokenizerJson = tokenizerJson;
        var root = JsonKeys.ParseObject(tokenizerJson, source);
        var model = root["model"] as JsonObject ?? throw new DistillSharpException($"{source}: no model object");
        string type = JsonKeys.String(model, "type", source + " model") ?? "BPE";
        if (type != "BPE") throw new DistillSharpException($"{source}: model type '{type}' is not supported; known: BPE (byte-level)");
        var vocabNode = model["vocab"] as JsonObject ?? throw new DistillSharpException($"{source}: model.vocab is not an object");
        var vocab = new Dictionary<string, int>(vocabNode.Count);
        foreach (var (token, id) in vocabNode) vocab[token] = Id(id, $"model.vocab['{token}']", source);
        var merges = (model["merges"] as JsonArray ?? []).Select(m => m switch
        {
            JsonArray pair when pair.Count == 2 && pair.All(x => x is JsonValue j && j.GetValueKind() == JsonValueKind.String) =>
                $"{pair[0]!.GetValue<string>()} {pair[1]!.GetValue<string>()}",
            JsonValue v when v.GetValueKind() == JsonValueKind.String && v.GetValue<string>().Split(' ').Length == 2 => v.GetValue<string>(),
            _ => throw new DistillSharpException($"{source}: merge {m?.ToJsonString()} is neither \"a b\" nor [\"a\", \"b\"]"),
        }).ToList();
        AddedTokens = (root["added_tokens"] as JsonArray ?? []).Select(n => n is JsonObject o
            ? new AddedToken(Id(o["id"], "added_tokens id", source),
                JsonKeys.String(o, "content", source + " added_tokens") ?? throw new DistillSharpException($"{source}: an added token has no content"),
                JsonKeys.Bool(o, "special", source + " added_tokens") ?? false)
            : throw new DistillSharpException($"{source}: added_tokens entry {n?.ToJsonString()} is not an object")).ToList();
        (PreTokenizerPattern, _addPrefixSpace) = ReadPreTokenizer(root["pre_tokenizer"], source);
        _nfc = ReadNormalizer(root["normalizer"], source);

        VocabSize = Math.Max(vocab.Values.DefaultIfEmpty(-1).Max(), AddedTokens.Select(a => a.Id).DefaultIfEmpty(-1).Max()) + 1;
        _idToToken = new string?[VocabSize];
        foreach (var (token, id) in vocab) _idToToken[id] = token;
        foreach (var a in AddedTokens) _idToToken[a.Id] = a.Content;
        _added = AddedTokens.Select(a => a.Id).ToHashSet();
        var special = AddedTokens.ToDictionary(a => a.Content, a => a.Id);
        foreach (var (token, id) in vocab) if (id < 0) throw new DistillSharpException($"{source}: token '{token}' has negative id {id}");

        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(vocab.Where(kv => !special.ContainsKey(kv.Key)))
            {
                Merges = merges,
                ByteLevel = true,
                SpecialTokens = special,
                PreTokenizer = new RegexPreTokenizer(new Regex(PreTokenizerPattern, RegexOptions.Compiled), special),
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new DistillSharpException($"{source}: not a usable byte-level BPE tokenizer ({e.Message})");
        }
        BosId = Lookup(bosToken, "bos_token", source);
        EosId = Lookup(eosToken, "eos_token", source);
        PadId = Lookup(padToken, "pad_token", source);
        AddBosToken = addBosToken && BosId is not null;
    }

    /// <summary>Largest token id a tokenizer.json may use.</summary>
    public const int MaxId = (1 << 22) - 1;

    // A token id: an integer in [0, MaxId].
    static int Id(JsonNode? node, string what, string source) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) && d is >= 0 and <= MaxId
            ? (int)d : throw new DistillSharpException($"{source}: {what} must be a token id in [0, {MaxId:N0}], got {node?.ToJsonString() ?? "nothing"}");

    int? Lookup(string? token, string key, string source)
    {
        if (token is null) return null;
        int? id = AddedTokens.FirstOrDefault(a => a.Content == token)?.Id;
        if (id is null) { int i = Array.IndexOf(_idToToken, token); id = i >= 0 ? i : null; }
        return id ?? throw new DistillSharpException($"{source}: {key} '{token}' is not in the vocabulary");
    }

    static (string Pattern, bool AddPrefixSpace) ReadPreTokenizer(JsonNode? node, string source)
    {
        // Supported: ByteLevel (use_regex → the GPT-2 regex) alone, or Sequence[Split(Regex), ByteLevel(use_regex=false)] (Qwen2).
        string what = source + " pre_tokenizer";
        string Type(JsonNode? n) => n is JsonObject o ? JsonKeys.String(o, "type", what) ?? "null" : "null";
        bool? Flag(JsonNode? n, string key) => n is JsonObject o ? JsonKeys.Bool(o, key, what) : null;
        if (Type(node) == "ByteLevel")
            return (Gpt2Pattern, Flag(node, "add_prefix_space") ?? false);
        if (Type(node) == "Sequence" && node!["pretokenizers"] is JsonArray { Count: 2 } seq &&
            Type(seq[0]) == "Split" && seq[0]!["pattern"] is JsonObject pattern && JsonKeys.String(pattern, "Regex", what) is { } regex &&
            Type(seq[1]) == "ByteLevel" && Flag(seq[1], "use_regex") != true)
            return (regex, Flag(seq[1], "add_prefix_space") ?? false);
        throw new DistillSharpException($"{source}: pre_tokenizer {node?.ToJsonString() ?? "null"} is not supported; known: ByteLevel, Sequence[Split(Regex), ByteLevel]");
    }

    static bool ReadNormalizer(JsonNode? node, string source) => (node is JsonObject o ? JsonKeys.String(o, "type", source + " normalizer") : null) switch
    {
        null => false,
        "NFC" => true,
        var t => throw new DistillSharpException($"{source}: normalizer '{t}' is not supported; known: null, NFC"),
    };

    /// <summary>Token ids of <paramref name="text"/>; BOS first when <paramref name="addBos"/> and the tokenizer has one.</summary>
    public int[] Encode(string text, bool addBos = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (_nfc) text = text.Normalize(NormalizationForm.FormC);
        if (_addPrefixSpace && text.Length > 0 && !char.IsWhiteSpace(text[0])) text = " " + text;
        var ids = _bpe.EncodeToIds(text);
        return addBos && BosId is { } bos ? [bos, .. ids] : [.. ids];
    }

    /// <summary>Text of <paramref name="ids"/> (special tokens included as their text); incomplete UTF-8 at the end becomes U+FFFD.</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= VocabSize || _idToToken[id] is not { } token)
                throw new DistillSharpException($"token id {id} is outside the vocabulary [0, {VocabSize})");
            if (_added.Contains(id) || !ByteLevelAlphabet.AppendBytes(token, bytes))
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>The token string of an id (byte-level characters for BPE tokens).</summary>
    public string IdToToken(int id) => id >= 0 && id < VocabSize && _idToToken[id] is { } t ? t
        : throw new DistillSharpException($"token id {id} is outside the vocabulary [0, {VocabSize})");

    /// <summary>Reads tokenizer.json and the special tokens of tokenizer_config.json / special_tokens_map.json in <paramref name="dir"/>.</summary>
    public static DecoderTokenizer Load(string dir)
    {
        string path = Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(path)) throw new DistillSharpException($"{dir}: no tokenizer.json");
        JsonObject? Read(string name)
        {
            string p = Path.Combine(dir, name);
            return File.Exists(p) ? InputFile.ReadJsonObject(p, name) : null;
        }
        var config = Read("tokenizer_config.json");
        var map = Read("special_tokens_map.json");
        string? Special(string key) => TokenName(config?[key]) ?? TokenName(map?[key]);
        bool addBos = config is not null && JsonKeys.Bool(config, "add_bos_token", Path.Combine(dir, "tokenizer_config.json")) == true;
        return new DecoderTokenizer(InputFile.ReadText(path, InputFile.ConfigBytes, "tokenizer.json"), Special("bos_token"), Special("eos_token"), Special("pad_token"), addBos, path);
    }

    static string? TokenName(JsonNode? node) => node switch
    {
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonObject o => o["content"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? c.GetValue<string>() : null,
        _ => null,
    };

    /// <summary>Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json.</summary>
    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.WriteText(Path.Combine(dir, "tokenizer.json"), _tokenizerJson);
        var indented = new JsonSerializerOptions { WriteIndented = true };
        string? Name(int? id) => id is { } i ? _idToToken[i] : null;
        var special = new JsonObject { ["bos_token"] = Name(BosId), ["eos_token"] = Name(EosId), ["pad_token"] = Name(PadId) };
        AtomicFile.WriteText(Path.Combine(dir, "special_tokens_map.json"), special.ToJsonString(indented));
        var config = new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast",
            ["add_bos_token"] = AddBosToken, ["add_eos_token"] = false,
            ["bos_token"] = Name(BosId), ["eos_token"] = Name(EosId), ["pad_token"] = Name(PadId),
            ["clean_up_tokenization_spaces"] = false,
        };
        AtomicFile.WriteText(Path.Combine(dir, "tokenizer_config.json"), config.ToJsonString(indented));
    }
}

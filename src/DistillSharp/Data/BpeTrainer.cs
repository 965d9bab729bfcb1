using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Data;

/// <summary>
/// Trains a byte-level BPE tokenizer (Sennrich et al. 2016; GPT-2's byte-level variant): texts are
/// split with the GPT-2 pre-tokenization regex, each piece becomes its UTF-8 bytes in the byte-level
/// alphabet, and the most frequent adjacent pair is merged until the vocabulary is full. Ties go to
/// the ordinally smallest (left, right) pair, so training is deterministic. Pairs seen fewer than
/// twice are never merged (the vocabulary may then stay below the requested size). Ids: special
/// tokens first, then the 256 bytes, then merges in order.
/// </summary>
public static class BpeTrainer
{
    /// <summary>
    /// Trains on <paramref name="texts"/>. <paramref name="specialTokens"/>[0] becomes end-of-text
    /// (EOS, and BOS unless <paramref name="bosToken"/> names another); <paramref name="padToken"/>
    /// (if given) must be one of the special tokens.
    /// </summary>
    public static DecoderTokenizer Train(IEnumerable<string> texts, int vocabSize, IReadOnlyList<string> specialTokens,
        string? bosToken = null, string? padToken = null)
    {
        if (specialTokens.Count == 0) throw new DistillSharpException("BPE training needs at least one special token (the end-of-text token)");
        if (specialTokens.Distinct().Count() != specialTokens.Count) throw new DistillSharpException($"special tokens repeat: {string.Join(", ", specialTokens)}");
        foreach (var t in new[] { bosToken, padToken })
            if (t is not null && !specialTokens.Contains(t)) throw new DistillSharpException($"'{t}' is not one of the special tokens {string.Join(", ", specialTokens)}");
        int minimum = specialTokens.Count + 256;
        if (vocabSize < minimum) throw new DistillSharpException($"vocabSize {vocabSize} is below the {minimum} ids that the special tokens and 256 bytes need");

        var vocab = new List<string>(specialTokens);
        vocab.AddRange(ByteLevelAlphabet.All);
        var ids = new Dictionary<string, int>();
        for (int i = 0; i < vocab.Count; i++) ids[vocab[i]] = i;

        var regex = new Regex(DecoderTokenizer.Gpt2Pattern, RegexOptions.Compiled);
        var wordCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var text in texts)
            foreach (Match m in regex.Matches(text))
            {
                string piece = ByteLevelAlphabet.Encode(m.Value);
                wordCounts[piece] = wordCounts.GetValueOrDefault(piece) + 1;
            }
        var words = wordCounts.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => (Symbols: kv.Key.Select(c => ids[c.ToString()]).ToList(), Count: kv.Value)).ToList();

        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        void Count(int w, int sign)
        {
            var s = words[w].Symbols;
            for (int i = 0; i + 1 < s.Count; i++)
            {
                var pair = (s[i], s[i + 1]);
                pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + sign * words[w].Count;
                if (sign > 0) (pairWords.TryGetValue(pair, out var set) ? set : pairWords[pair] = []).Add(w);
            }
        }
        for (int w = 0; w < words.Count; w++) Count(w, +1);

        var merges = new List<(string, string)>();
        while (vocab.Count < vocabSize)
        {
            (int, int)? best = null;
            long bestCount = 1;
            foreach (var (pair, count) in pairCounts)
            {
                if (count < bestCount || count < 2) continue;
                if (count > bestCount || best is null || Before(pair, best.Value, vocab)) { best = pair; bestCount = count; }
            }
            if (best is not { } merge) break;
            string merged = vocab[merge.Item1] + vocab[merge.Item2];
            if (!ids.TryGetValue(merged, out int newId))
            {
                newId = vocab.Count;
                vocab.Add(merged);
                ids[merged] = newId;
            }
            merges.Add((vocab[merge.Item1], vocab[merge.Item2]));
            foreach (int w in pairWords[merge].Order().ToList())
            {
                Count(w, -1);
                var s = words[w].Symbols;
                var next = new List<int>(s.Count);
                for (int i = 0; i < s.Count; i++)
                {
                    if (i + 1 < s.Count && s[i] == merge.Item1 && s[i + 1] == merge.Item2) { next.Add(newId); i++; }
                    else next.Add(s[i]);
                }
                words[w] = (next, words[w].Count);
                Count(w, +1);
            }
            pairCounts.Remove(merge);
            pairWords.Remove(merge);
        }
        string json = TokenizerJson(vocab, merges, specialTokens);
        return new DecoderTokenizer(json, bosToken ?? specialTokens[0], specialTokens[0], padToken, addBosToken: false, "trained tokenizer");
    }

    static bool Before((int, int) a, (int, int) b, List<string> vocab)
    {
        int c = string.CompareOrdinal(vocab[a.Item1], vocab[b.Item1]);
        return c != 0 ? c < 0 : string.CompareOrdinal(vocab[a.Item2], vocab[b.Item2]) < 0;
    }

    /// <summary>The tokenizer.json document of Hugging Face's tokenizers library for a byte-level BPE.</summary>
    static string TokenizerJson(List<string> vocab, List<(string, string)> merges, IReadOnlyList<string> specialTokens)
    {
        JsonObject ByteLevel(bool addPrefixSpace, bool trimOffsets) => new()
        {
            ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = trimOffsets, ["use_regex"] = true,
        };
        var vocabJson = new JsonObject();
        for (int i = 0; i < vocab.Count; i++) if (!vocabJson.ContainsKey(vocab[i])) vocabJson[vocab[i]] = i;
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = new JsonArray(specialTokens.Select((t, i) => (JsonNode)new JsonObject
            {
                ["id"] = i, ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            }).ToArray()),
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevel(false, true),
            ["post_processor"] = ByteLevel(true, false),
            ["decoder"] = ByteLevel(true, true),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocabJson,
                ["merges"] = new JsonArray(merges.Select(m => (JsonNode)$"{m.Item1} {m.Item2}").ToArray()),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }
}

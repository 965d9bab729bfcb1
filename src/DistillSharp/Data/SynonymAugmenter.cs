using System.Text;
using System.Text.RegularExpressions;
using DistillSharp.Runtime;

namespace DistillSharp.Data;

/// <summary>
/// WordNet synonym replacement (as in EDA, Wei &amp; Zou 2019): each word that has synonyms is
/// replaced, with probability p, by one of them chosen uniformly. Synonyms of a word are the other
/// lemmas of every synset that contains it (case-sensitive; sense-agnostic, as in EDA). Build it from the training synsets only, so that
/// augmentation cannot bring held-out lemmas into the corpus.
/// </summary>
public sealed partial class SynonymAugmenter
{
    readonly Dictionary<string, string[]> _synonyms;

    /// <summary>Builds the synonym table from synsets (use <see cref="WordNetSplit.Training"/>).</summary>
    public SynonymAugmenter(IEnumerable<WordNetSynset> synsets)
    {
        var table = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var synset in synsets)
            foreach (string word in synset.Words)
            {
                string key = word; // case kept: "brown" (colour) and "Brown" (university) are different lemmas
                if (Word().Match(key) is not { Success: true } m || m.Length != key.Length) continue; // single words only as keys
                foreach (string other in synset.Words)
                {
                    if (string.Equals(other, word, StringComparison.OrdinalIgnoreCase)) continue;
                    if (!table.TryGetValue(key, out var set)) table[key] = set = new SortedSet<string>(StringComparer.Ordinal);
                    set.Add(other);
                }
            }
        _synonyms = table.ToDictionary(p => p.Key, p => p.Value.ToArray());
    }

    /// <summary>
    /// The synonyms of a word, sorted; empty when none. The exact lemma is looked up first, then
    /// the lower-cased word (so a sentence-initial "Dog" finds "dog").
    /// </summary>
    public IReadOnlyList<string> SynonymsOf(string word) => Lookup(word) ?? [];

    string[]? Lookup(string word) =>
        _synonyms.TryGetValue(word, out var exact) ? exact
        : _synonyms.TryGetValue(word.ToLowerInvariant(), out var lower) ? lower
        : null;

    /// <summary>Replaces words with probability <paramref name="p"/>; draws from <paramref name="random"/> only for words with synonyms.</summary>
    public string Augment(string text, double p, SplitMix64 random)
    {
        if (p < 0 || p > 1) throw new DistillSharpException($"synonym replacement probability {p} must be in [0, 1]");
        if (p == 0) return text;
        var output = new StringBuilder(text.Length);
        int last = 0;
        foreach (Match m in Word().Matches(text))
        {
            if (Lookup(m.Value) is not { } options) continue;
            if (random.NextDouble() >= p) continue;
            string synonym = options[random.NextInt(options.Length)];
            if (char.IsUpper(m.Value[0]) && char.IsLower(synonym[0])) synonym = char.ToUpperInvariant(synonym[0]) + synonym[1..];
            output.Append(text, last, m.Index - last).Append(synonym);
            last = m.Index + m.Length;
        }
        return output.Append(text, last, text.Length - last).ToString();
    }

    /// <summary>Augments every text with one generator seeded by <paramref name="seed"/> (same seed, same output).</summary>
    public IReadOnlyList<string> Augment(IReadOnlyList<string> texts, double p, ulong seed)
    {
        var random = new SplitMix64(seed);
        return texts.Select(t => Augment(t, p, random)).ToList();
    }

    [GeneratedRegex(@"\p{L}+(?:['-]\p{L}+)*")]
    private static partial Regex Word();
}

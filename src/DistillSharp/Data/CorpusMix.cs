using DistillSharp.Runtime;

namespace DistillSharp.Data;

/// <summary>How many texts of one source a mixed corpus holds.</summary>
/// <param name="Source">Source name as the config spells it (<c>wordnet</c>, <c>mail</c>, a file path …).</param>
/// <param name="Weight">Its weight in the config (null for a corpus that is a plain concatenation).</param>
/// <param name="Available">Distinct texts the source has.</param>
/// <param name="Texts">Texts of the source in the corpus (more than <paramref name="Available"/> when the source was repeated).</param>
public sealed record CorpusShare(string Source, double? Weight, int Available, int Texts);

/// <summary>A distillation corpus and what it holds per source.</summary>
/// <param name="Texts">The texts, in training order before the batcher's own shuffle.</param>
/// <param name="Shares">One row per source, in config order.</param>
public sealed record MixedCorpus(IReadOnlyList<string> Texts, IReadOnlyList<CorpusShare> Shares);

/// <summary>
/// Mixes sources by weight. The corpus keeps the size of the plain concatenation, N = Σ available
/// texts of the sources with weight &gt; 0; source s gets n_s = N · w_s / Σw texts (largest-remainder
/// rounding, so Σ n_s = N exactly). A source with more texts than n_s gives a seeded sample without
/// repetition; one with fewer gives all its texts ⌊n_s / available⌋ times plus a seeded sample of the
/// rest. The mixed list is shuffled with the seed, so every prefix (calibration takes one) holds the
/// sources in about their proportions. Same inputs and seed → same corpus in every process.
/// </summary>
public static class CorpusMix
{
    /// <summary>The unweighted corpus: every source's texts once, in the order given.</summary>
    public static MixedCorpus Concatenate(IReadOnlyList<(string Source, IReadOnlyList<string> Texts)> sources) =>
        new(sources.SelectMany(s => s.Texts).ToList(), sources.Select(s => new CorpusShare(s.Source, null, s.Texts.Count, s.Texts.Count)).ToList());

    /// <summary>Mixes <paramref name="sources"/> by <paramref name="weights"/> (same order, each ≥ 0, sum &gt; 0).</summary>
    public static MixedCorpus Mix(IReadOnlyList<(string Source, IReadOnlyList<string> Texts)> sources, IReadOnlyList<double> weights, ulong seed)
    {
        if (weights.Count != sources.Count) throw new ArgumentException($"{weights.Count} weights for {sources.Count} sources");
        for (int i = 0; i < sources.Count; i++)
        {
            if (!(weights[i] >= 0) || !double.IsFinite(weights[i]))
                throw new DistillSharpException($"data.corpus.{sources[i].Source} weight must be a finite number >= 0, got {weights[i]}");
            if (weights[i] > 0 && sources[i].Texts.Count == 0)
                throw new DistillSharpException($"data.corpus.{sources[i].Source} has weight {weights[i]} but no texts");
        }
        double sum = weights.Sum();
        if (!(sum > 0)) throw new DistillSharpException("data.corpus weights must sum to more than 0");
        int total = Enumerable.Range(0, sources.Count).Where(i => weights[i] > 0).Sum(i => sources[i].Texts.Count);
        int[] counts = Apportion(weights, total);
        var random = new SplitMix64(seed);
        var mixed = new List<string>(total);
        var shares = new List<CorpusShare>();
        for (int i = 0; i < sources.Count; i++)
        {
            var texts = sources[i].Texts;
            for (int pass = 0; pass < counts[i] / Math.Max(1, texts.Count); pass++) mixed.AddRange(texts);
            int rest = texts.Count == 0 ? 0 : counts[i] % texts.Count;
            mixed.AddRange(random.Shuffled(texts).Take(rest));
            shares.Add(new CorpusShare(sources[i].Source, weights[i], texts.Count, counts[i]));
        }
        return new MixedCorpus(random.Shuffled(mixed), shares);
    }

    /// <summary>Splits <paramref name="total"/> in proportion to <paramref name="weights"/>: floors, then one more to the largest remainders (ties to the earlier source).</summary>
    public static int[] Apportion(IReadOnlyList<double> weights, int total)
    {
        double sum = weights.Sum();
        var exact = weights.Select(w => total * w / sum).ToArray();
        var counts = exact.Select(x => (int)Math.Floor(x)).ToArray();
        int left = total - counts.Sum();
        foreach (int i in Enumerable.Range(0, weights.Count).OrderByDescending(i => exact[i] - counts[i]).ThenBy(i => i).Take(left)) counts[i]++;
        return counts;
    }
}

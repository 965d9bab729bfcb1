using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

public class CorpusMixTests
{
    static IReadOnlyList<string> Texts(string prefix, int n) => Enumerable.Range(0, n).Select(i => $"{prefix}{i}").ToList();

    static readonly IReadOnlyList<(string, IReadOnlyList<string>)> ThreeSources =
        [("wordnet", Texts("w", 10)), ("mail", Texts("m", 6)), ("moby-dick", Texts("b", 4))];

    [Theory]
    // Hand-checked: 20 × (0.4, 0.3, 0.3) = 8, 6, 6 exactly.
    [InlineData(new[] { 0.4, 0.3, 0.3 }, 20, new[] { 8, 6, 6 })]
    // 10 / 3 = 3.33 each: floors 3, 3, 3, and the one left over goes to the first of the tied remainders.
    [InlineData(new[] { 1.0, 1.0, 1.0 }, 10, new[] { 4, 3, 3 })]
    // 7 × (2/3, 1/3) = 4.67, 2.33: floors 4, 2, the larger remainder (0.67) gets the last one.
    [InlineData(new[] { 2.0, 1.0 }, 7, new[] { 5, 2 })]
    [InlineData(new[] { 0.0, 5.0 }, 9, new[] { 0, 9 })]
    public void ApportionSplitsTheTotalByWeightAndLargestRemainder(double[] weights, int total, int[] expected) =>
        Assert.Equal(expected, CorpusMix.Apportion(weights, total));

    [Fact]
    public void MixHoldsEachSourceInItsShareRepeatingSmallSourcesAndSamplingLargeOnes()
    {
        // N = 10 + 6 + 4 = 20 texts; weights 0.4/0.3/0.3 → 8 wordnet (a sample of 10), 6 mail (all of them), 6 book (4 + 2 repeated).
        var mix = CorpusMix.Mix(ThreeSources, [0.4, 0.3, 0.3], seed: 7);
        Assert.Equal(20, mix.Texts.Count);
        Assert.Equal(8, mix.Texts.Count(t => t[0] == 'w'));
        Assert.Equal(8, mix.Texts.Where(t => t[0] == 'w').Distinct().Count());
        Assert.Equal(Texts("m", 6), mix.Texts.Where(t => t[0] == 'm').Order());
        var book = mix.Texts.Where(t => t[0] == 'b').ToList();
        Assert.Equal(6, book.Count);
        Assert.Equal(Texts("b", 4), book.Distinct().Order());
        Assert.Equal([new CorpusShare("wordnet", 0.4, 10, 8), new CorpusShare("mail", 0.3, 6, 6), new CorpusShare("moby-dick", 0.3, 4, 6)], mix.Shares);
    }

    [Fact]
    public void MixIsDeterministicForASeedAndInterleavesTheSources()
    {
        var a = CorpusMix.Mix(ThreeSources, [0.4, 0.3, 0.3], seed: 7).Texts;
        Assert.Equal(a, CorpusMix.Mix(ThreeSources, [0.4, 0.3, 0.3], seed: 7).Texts);
        Assert.NotEqual(a, CorpusMix.Mix(ThreeSources, [0.4, 0.3, 0.3], seed: 8).Texts);
        // Shuffled, not source after source: the first 10 texts are not all from wordnet.
        Assert.True(a.Take(10).Select(t => t[0]).Distinct().Count() > 1);
    }

    [Fact]
    public void ZeroWeightLeavesASourceOutAndBadWeightsFailNamingTheSource()
    {
        var mix = CorpusMix.Mix(ThreeSources, [1, 0, 1], seed: 1);
        Assert.Equal(14, mix.Texts.Count);
        Assert.DoesNotContain(mix.Texts, t => t[0] == 'm');
        Assert.Equal("data.corpus.mail weight must be a finite number >= 0, got -1",
            Assert.Throws<DistillSharpException>(() => CorpusMix.Mix(ThreeSources, [1, -1, 1], 1)).Message);
        Assert.Equal("data.corpus weights must sum to more than 0",
            Assert.Throws<DistillSharpException>(() => CorpusMix.Mix(ThreeSources, [0, 0, 0], 1)).Message);
    }

    [Fact]
    public void ConcatenationKeepsOrderAndCounts()
    {
        var plain = CorpusMix.Concatenate(ThreeSources);
        Assert.Equal(ThreeSources.SelectMany(s => s.Item2), plain.Texts);
        Assert.Equal([10, 6, 4], plain.Shares.Select(s => s.Texts));
        Assert.All(plain.Shares, s => Assert.Null(s.Weight));
    }

    [Fact]
    public void SourcesAreValidatedAndGroupedByKind()
    {
        Assert.StartsWith("data.corpus: unknown source 'news'; known: wordnet, glosses, examples, lemmas, mail, moby-dick, sotu",
            Assert.Throws<DistillSharpException>(() => CorpusSources.Validate(["wordnet", "news"])).Message);
        Assert.Equal("data.corpus: 'glosses' overlaps 'wordnet' (both hold gloss texts); name each text once",
            Assert.Throws<DistillSharpException>(() => CorpusSources.Validate(["wordnet", "glosses"])).Message);
        CorpusSources.Validate(["glosses", "mail", "moby-dick", "my/texts.txt"]);
        Assert.Equal(["wordnet", "mail"], CorpusSources.Split("wordnet+mail"));

        var wordnet = DataSplits.SplitWordNet(SyntheticData.WordNet(12), count: 4);
        var mails = DataSplits.SplitMails(SyntheticData.Mails(ham: 10, spam: 5));
        var book = new LmDocument("moby-dick", "chapter_1", "Call me Ishmael, said the sailor to the crowd.\n\nSome years ago, never mind how long precisely.");
        var items = DistillationCorpus.Build(wordnet, mails, CorpusSources.Options(["wordnet", "mail", "moby-dick"]), [book]);
        var groups = CorpusSources.Group(items, ["wordnet", "mail", "moby-dick"]);
        Assert.Equal(items.Count, groups.Sum(g => g.Texts.Count));
        // The two paragraphs (45 + 46 characters) pack into one chunk of at most 300.
        Assert.Equal(["Call me Ishmael, said the sailor to the crowd. Some years ago, never mind how long precisely."], groups[2].Texts);
        Assert.Equal(items.Where(i => i.Source.StartsWith("mail:")).Select(i => i.Text), groups[1].Texts);
    }
}

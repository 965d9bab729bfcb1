using DistillSharp.Data;

namespace DistillSharp.Tests.LanguageModels;

public class LmTextCorpusTests
{
    static List<LmDocument> Synthetic() =>
        Enumerable.Range(0, 40).Select(i => new LmDocument("a", $"doc{i:D2}", $"text a {i}"))
            .Concat(Enumerable.Range(0, 7).Select(i => new LmDocument("b", $"s{i}", $"text b {i}"))).ToList();

    [Fact]
    public void SplitIsDeterministicDisjointAndPerSource()
    {
        var docs = Synthetic();
        var split = LmTextCorpus.Split(docs, 0.1, seed: 7);
        var again = LmTextCorpus.Split(Enumerable.Reverse(docs).ToList(), 0.1, seed: 7);   // input order does not matter
        Assert.Equal(split.HeldOut.Select(d => d.Id), again.HeldOut.Select(d => d.Id));
        Assert.Empty(split.Train.Select(d => d.Source + d.Id).Intersect(split.HeldOut.Select(d => d.Source + d.Id)));
        Assert.Equal(docs.Count, split.Train.Count + split.HeldOut.Count);
        Assert.Equal(4, split.HeldOut.Count(d => d.Source == "a"));                          // round(0.1 · 40)
        Assert.Equal(1, split.HeldOut.Count(d => d.Source == "b"));                          // round(0.7) = 1
        Assert.NotEqual(split.HeldOut.Select(d => d.Id), LmTextCorpus.Split(docs, 0.1, seed: 8).HeldOut.Select(d => d.Id));
    }

    [Fact]
    public void BadInputIsAClearError()
    {
        Assert.Contains("[0, 1)", Assert.Throws<DistillSharpException>(() => LmTextCorpus.Split(Synthetic(), 1.0)).Message);
        var dup = Synthetic().Append(new LmDocument("a", "doc03", "again")).ToList();
        Assert.Contains("a/doc03", Assert.Throws<DistillSharpException>(() => LmTextCorpus.Split(dup, 0.1)).Message);
    }

    [Fact]
    public void ParagraphsAreKeptOneLineEach() =>
        Assert.Equal("CHAPTER 1.\n\nCall me Ishmael. Some years ago.\n\nEnd.",
            LmTextCorpus.Paragraphs("CHAPTER 1.\r\n\r\nCall me  Ishmael. Some years\nago.\n\n\n\nEnd.\n"));

    [Fact]
    [Trait("Category", "Slow")]
    public void RealPackagesLoadAndSplit()
    {
        var split = LmTextCorpus.Load(new LmCorpusOptions(), TextWriter.Null);
        Assert.Equal(139 + 233, split.Train.Count + split.HeldOut.Count);
        Assert.Contains(split.Train.Concat(split.HeldOut), d => d.Id == "chapter_1" && d.Text.StartsWith("CHAPTER 1. Loomings.\n\nCall me Ishmael."));
        Assert.Equal(7 + 12, split.HeldOut.Count);                                        // round(0.05 · 139), round(0.05 · 233)
    }
}

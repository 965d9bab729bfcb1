using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

public class SplitsAndCorpusTests
{
    [Fact]
    public void WordNetSplitHoldsOutEligibleNounsOnlyAndIsDisjoint()
    {
        var db = SyntheticData.WordNet(40);
        var split = DataSplits.SplitWordNet(db, count: 10);
        Assert.Equal(10, split.Evaluation.Count);
        Assert.All(split.Evaluation, s => Assert.True(s.Pos == 'n' && s.Words.Count > 0 && s.Definitions.Count > 0));
        Assert.DoesNotContain(split.Evaluation, s => s.Words.Contains("bank") || s.Words.Contains("nothing"));
        var evalIds = split.Evaluation.Select(s => s.Id).ToHashSet();
        Assert.Equal(10, evalIds.Count);
        Assert.DoesNotContain(split.Training, s => evalIds.Contains(s.Id));
        Assert.Equal(db.Synsets.Count - 10, split.Training.Count);
    }

    [Fact]
    public void WordNetSplitIsFixedBySeed()
    {
        var db = SyntheticData.WordNet(40);
        var ids = DataSplits.SplitWordNet(db, 10).Evaluation.Select(s => s.Id).ToList();
        Assert.Equal(ids, DataSplits.SplitWordNet(db, 10).Evaluation.Select(s => s.Id));
        Assert.NotEqual(ids, DataSplits.SplitWordNet(db, 10, seed: 7).Evaluation.Select(s => s.Id));
        var e = Assert.Throws<DistillSharpException>(() => DataSplits.SplitWordNet(db, 41));
        Assert.Contains("1..40", e.Message);
    }

    [Fact]
    public void MailSplitIsStratifiedDisjointAndComplete()
    {
        var mails = SyntheticData.Mails(ham: 50, spam: 21);
        var split = DataSplits.SplitMails(mails);
        Assert.Equal(10, split.Test.Count(m => !m.IsSpam));
        Assert.Equal(4, split.Test.Count(m => m.IsSpam)); // round(0.2 * 21) = 4
        Assert.Empty(split.Train.Select(m => m.Id).Intersect(split.Test.Select(m => m.Id)));
        Assert.Equal(mails.Count, split.Train.Count + split.Test.Count);
        Assert.Equal(split.Test.Select(m => m.Id), DataSplits.SplitMails(mails).Test.Select(m => m.Id));
    }

    [Fact]
    public void CorpusNeverContainsHeldOutSynsetsOrMails()
    {
        var db = SyntheticData.WordNet(40);
        var wordnet = DataSplits.SplitWordNet(db, 10);
        // A training synset that repeats a held-out definition and lemma must not leak it either.
        var heldOut = wordnet.Evaluation[0];
        var copy = SyntheticData.Synset(9000, 'n', [heldOut.Words[0]], heldOut.Definition, heldOut.Examples[0]);
        wordnet = wordnet with { Training = [.. wordnet.Training, copy] };
        var mails = DataSplits.SplitMails(SyntheticData.Mails(30, 10));

        var corpus = DistillationCorpus.Build(wordnet, mails);
        var heldOutKeys = DistillationCorpus.HeldOutKeys(wordnet, mails, new CorpusOptions());
        var evalSources = wordnet.Evaluation.Select(s => s.Id).ToHashSet();
        var testMails = mails.Test.Select(m => "mail:" + m.Id).ToHashSet();

        Assert.DoesNotContain(corpus, item => heldOutKeys.Contains(DataSplits.Key(item.Text)));
        Assert.DoesNotContain(corpus, item => evalSources.Contains(item.Source[(item.Source.IndexOf(':') + 1)..]));
        Assert.DoesNotContain(corpus, item => testMails.Contains(item.Source));
        Assert.DoesNotContain(corpus, item => item.Source == "gloss:00009000-n" || item.Source == "example:00009000-n");
        Assert.All(wordnet.Evaluation, s => Assert.DoesNotContain(corpus, item => item.Text == s.Definition || item.Text == s.LemmaList));

        // What should be there is there: training glosses, examples, lemma lists, mail chunks.
        var train = wordnet.Training.First(s => s.Pos == 'n' && s.Offset < 5000);
        Assert.Contains(corpus, item => item.Text == train.Definition && item.Source == "gloss:" + train.Id);
        Assert.Contains(corpus, item => item.Text == train.Examples[0]);
        Assert.Contains(corpus, item => item.Text == train.LemmaList);
        Assert.Contains(corpus, item => item.Source == "mail:" + mails.Train[0].Id);
    }

    [Fact]
    public void CorpusOptionsSelectSourcesAndBoundMailChunks()
    {
        var mails = DataSplits.SplitMails(SyntheticData.Mails(30, 10));
        var corpus = DistillationCorpus.Build(null, mails, new CorpusOptions(MaxChunkChars: 40, MinChunkChars: 5));
        Assert.NotEmpty(corpus);
        Assert.All(corpus, item => Assert.StartsWith("mail:", item.Source));
        Assert.All(corpus, item => Assert.InRange(item.Text.Length, 5, 40));
    }

    [Fact]
    public void ChunkerSplitsSentencesPacksAndCutsLongOnes()
    {
        var chunks = SentenceChunker.Chunk("First one here. Second one here! Third?\nNew line text", maxChars: 32, minChars: 1);
        Assert.Equal(["First one here. Second one here!", "Third? New line text"], chunks);
        var cut = SentenceChunker.Chunk(string.Join(' ', Enumerable.Repeat("word", 30)), maxChars: 20, minChars: 1);
        Assert.All(cut, c => Assert.True(c.Length <= 20));
        Assert.Equal(30, cut.Sum(c => c.Split(' ').Length));
        Assert.Empty(SentenceChunker.Chunk("---------------------------- =====", 300, 5)); // no letters
    }
}

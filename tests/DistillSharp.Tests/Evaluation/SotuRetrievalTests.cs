using DistillSharp.Data;
using DistillSharp.Evaluation.Encoder;

namespace DistillSharp.Tests.Evaluation;

public class SotuRetrievalTests
{
    // 45-character sentences "Sentence k of the speech about topic k, here." that differ only in k.
    static string Sentence(int k) => $"Sentence {k:D3} of the speech about topic {k:D3}, here.";

    static LmDocument Speech(string id, int first, int count) =>
        new("sotu", id, string.Join(" ", Enumerable.Range(first, count).Select(Sentence)));

    [Fact]
    public void PairsAreASentenceAndThePassageAfterItWithAGap()
    {
        // Per pair: query = 1 sentence, document = 4 sentences (4 × 45 + 3 spaces = 183 ≤ 200; a 5th would not fit), then one
        // sentence skipped: 6 sentences per pair, so a speech of 13 sentences gives 2 pairs, starting at sentences 0 and 6.
        var pairs = SotuRetrievalTask.Build([Speech("1790_a", 0, 13)], count: 2).OrderBy(p => p.Origin).ToList();
        Assert.Equal(["1790_a#0", "1790_a#6"], pairs.Select(p => p.Origin));
        Assert.Equal(Sentence(0), pairs[0].Query);
        Assert.Equal(string.Join(" ", Enumerable.Range(1, 4).Select(Sentence)), pairs[0].Document);
        Assert.Equal(Sentence(6), pairs[1].Query);
    }

    [Fact]
    public void StageDirectionsAndDuplicatedTextsAreLeftOutAndTooFewPairsFail()
    {
        var speech = new LmDocument("sotu", "2001_b", Sentence(0) + " [Applause] " + string.Join(" ", Enumerable.Range(1, 4).Select(Sentence)));
        var pair = Assert.Single(SotuRetrievalTask.Build([speech], count: 1));
        Assert.DoesNotContain("Applause", pair.Query + pair.Document);
        // The same speech twice: every pair's texts occur twice, so none is kept.
        var e = Assert.Throws<DistillSharpException>(() => SotuRetrievalTask.Build([speech, speech with { Id = "2002_b" }], count: 1));
        Assert.Equal("sotu-retrieval: the speeches give 0 query/passage pairs, fewer than the 1 evaluated", e.Message);
    }

    [Fact]
    public void TheSamplingIsSeededAndTheHeldOutKeysCoverEveryText()
    {
        var speeches = Enumerable.Range(0, 5).Select(i => Speech($"19{i}0_c", 100 * i, 30)).ToList();
        var a = SotuRetrievalTask.Build(speeches, count: 10);
        Assert.Equal(a, SotuRetrievalTask.Build(speeches, count: 10));
        Assert.NotEqual(a.Select(p => p.Origin), SotuRetrievalTask.Build(speeches, count: 10, seed: 99).Select(p => p.Origin));
        var keys = SotuRetrievalTask.HeldOutKeys(a);
        Assert.Equal(20, keys.Count);
        Assert.Contains(DataSplits.Key(a[3].Document), keys);
    }

    [Fact]
    public void MetricsOnAHandBuiltCase()
    {
        // Three pairs in 2-D. Queries q0 = (1, 0), q1 = (0, 1), q2 = (1, 1). Documents d0 = (1, 0.1), d1 = (1, 0), d2 = (1, 1).
        // q0 ranks d1 (cos 1) above its own d0 (0.995): rank 2. q1 ranks d2 (0.707) above d0 (0.0995) and d1 (0): its own d1 is rank 3.
        // q2 ranks d2 first (cos 1): rank 1. So R@1 = 1/3, R@10 = 1, MRR = (1/2 + 1/3 + 1) / 3 = 11/18.
        var vectors = new Dictionary<string, float[]>
        {
            ["q0"] = [1, 0], ["q1"] = [0, 1], ["q2"] = [1, 1], ["d0"] = [1, 0.1f], ["d1"] = [1, 0], ["d2"] = [1, 1],
        };
        float[][] Embed(IReadOnlyList<string> texts) => texts.Select(t => vectors[t]).ToArray();
        var pairs = Enumerable.Range(0, 3).Select(i => new RetrievalPair($"q{i}", $"d{i}", $"s#{i}")).ToList();
        var result = SotuRetrievalTask.Evaluate(pairs, Embed, teacher: Embed, batchSize: 2);
        Assert.Equal(1 / 3.0, result.Metrics["r1"], 12);
        Assert.Equal(1.0, result.Metrics["r10"]);
        Assert.Equal(11 / 18.0, result.Metrics["mrr"], 12);
        Assert.Equal(3, result.Metrics["pairs"]);
        Assert.Equal(1.0, result.Metrics["agreement"], 6);
        // A student that negates the teacher's vectors has agreement −1; without a teacher there is no agreement metric.
        Assert.Equal(-1.0, SotuRetrievalTask.Evaluate(pairs, t => Embed(t).Select(v => v.Select(x => -x).ToArray()).ToArray(), Embed).Metrics["agreement"], 6);
        Assert.False(SotuRetrievalTask.Evaluate(pairs, Embed).Metrics.ContainsKey("agreement"));
    }
}

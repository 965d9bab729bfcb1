using DistillSharp.Data;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;
using DistillSharp.Tests.Data;

namespace DistillSharp.Tests.Evaluation;

public class EvalTasksTests
{
    static readonly WordNetDatabase Db = SyntheticData.WordNet(30);
    static readonly List<LabelledMail> Mails = SyntheticData.Mails(ham: 40, spam: 20);

    /// <summary>Maps each text to a one-hot vector by the number in it ("thing 7", "word7" → e7), a perfect retriever.</summary>
    static float[][] OneHotByNumber(IReadOnlyList<string> texts) => texts.Select(t =>
    {
        var v = new float[64];
        v[int.Parse(System.Text.RegularExpressions.Regex.Match(t, @"\d+").Value)] = 1;
        return v;
    }).ToArray();

    /// <summary>Spam-ness as a feature: 1 when the text offers something, plus a constant.</summary>
    static float[][] OfferDetector(IReadOnlyList<string> texts) =>
        texts.Select(t => new[] { t.Contains("offer") ? 1f : 0f, 0.5f }).ToArray();

    static EvalContext Context(Func<IReadOnlyList<string>, float[][]> embed, Func<IReadOnlyList<string>, float[][]>? teacher = null) =>
        new(embed, new EvalData(() => Db, () => Mails, evaluationSynsets: 10), teacher, BatchSize: 7);

    [Fact]
    public void RegistryListsTheTasksAndRejectsUnknownNames()
    {
        Assert.Equal(["wordnet-retrieval", "spam-f1", "agreement", "embedding-compression", "index-compatibility", "sotu-retrieval"], EvalRegistry.Tasks.Keys);
        Assert.All(EvalRegistry.Tasks, pair => Assert.Equal(pair.Key, pair.Value().Name));
        var e = Assert.Throws<DistillSharpException>(() => EvalRegistry.Create("glue"));
        Assert.Contains("'glue'", e.Message);
        Assert.Contains("wordnet-retrieval, spam-f1, agreement, embedding-compression, index-compatibility, sotu-retrieval", e.Message);
    }

    [Fact]
    public void RetrievalIsPerfectForAPerfectEmbeddingAndChanceForAConstantOne()
    {
        var perfect = EvalRegistry.Create("wordnet-retrieval").Run(Context(OneHotByNumber));
        Assert.Equal(1.0, perfect.Metrics["r1"]);
        Assert.Equal(1.0, perfect.Metrics["mrr"]);
        // Constant embeddings tie everywhere: every rank is 10 (pessimistic ties), so R@1 = 0, R@10 = 1, MRR = 1/10.
        var constant = EvalRegistry.Create("wordnet-retrieval").Run(Context(t => t.Select(_ => new[] { 1f, 2f }).ToArray()));
        Assert.Equal(0.0, constant.Metrics["r1"]);
        Assert.Equal(1.0, constant.Metrics["r10"]);
        Assert.Equal(0.1, constant.Metrics["mrr"], 12);
    }

    [Fact]
    public void SpamF1IsOneWhenTheFeatureSeparatesTheLabels()
    {
        var result = EvalRegistry.Create("spam-f1").Run(Context(OfferDetector));
        Assert.Equal("spam-f1", result.Task);
        Assert.Equal(1.0, result.Metrics["f1"]);
        Assert.Equal(1.0, result.Metrics["accuracy"]);
    }

    [Fact]
    public void SpamTextsAreCutToTheCallersLimit()
    {
        Assert.All(SpamF1Task.Texts(Mails, 12), t => Assert.True(t.Length <= 12));
        Assert.Equal("cheap offer 0", SpamF1Task.Texts(Mails.Where(m => m.IsSpam), 13)[0]);
    }

    [Fact]
    public void AgreementIsOneForTheTeacherItselfAndMinusOneForItsNegation()
    {
        static float[][] Teacher(IReadOnlyList<string> texts) => texts.Select(t => new[] { t.Length, 1f, t.Count(c => c == 'e') }).ToArray();
        Assert.Equal(1.0, EvalRegistry.Create("agreement").Run(Context(Teacher, Teacher)).Metrics["mean_cosine"], 6);
        var negated = EvalRegistry.Create("agreement").Run(Context(t => Teacher(t).Select(v => v.Select(x => -2 * x).ToArray()).ToArray(), Teacher));
        Assert.Equal(-1.0, negated.Metrics["mean_cosine"], 6);
        Assert.Equal(10 + 12, negated.Metrics["texts"]); // 10 held-out definitions + 12 held-out mails
    }

    [Fact]
    public void AgreementNeedsATeacherOfTheSameWidth()
    {
        Assert.Contains("teacher", Assert.Throws<DistillSharpException>(() => new AgreementTask().Run(Context(OfferDetector))).Message);
        var e = Assert.Throws<DistillSharpException>(() => new AgreementTask().Run(Context(OfferDetector, OneHotByNumber)));
        Assert.Contains("student embeddings have 2 dimensions, teacher 64", e.Message);
    }

    [Fact]
    public void BrokenEmbeddingFunctionsAreCaught()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Embeddings.Embed(t => [[1f]], ["a", "b"], 8, "test"));
        Assert.Contains("returned 1 vectors for 2 texts", e.Message);
        e = Assert.Throws<InvalidOperationException>(() => Embeddings.Embed(t => t.Select(_ => new[] { float.NaN }).ToArray(), ["a"], 8, "test"));
        Assert.Contains("NaN", e.Message);
    }
}

using DistillSharp.Config;
using DistillSharp.Config.Yaml;
using DistillSharp.Config.Encoder;
using DistillSharp.Pipeline.Encoder;

namespace DistillSharp.Tests.Config;

/// <summary>data.corpus: the '+' string, the weighted mapping, and the held-out domain's refusal.</summary>
public class CorpusConfigTests
{
    const string Head = "teacher: { source: builtin:all-MiniLM-L6-v2 }\nstages:\n  - { name: a, steps: 10, losses: { embedding_cosine: 1.0 } }\n";

    static RunConfig Parse(string data, string eval = "[ wordnet-retrieval ]") =>
        ConfigLoader.Parse<RunConfig>(Head + $"data: {data}\neval: {eval}\n");

    static string Error(string data) => Assert.Throws<ConfigException>(() => Parse(data)).Message;

    [Fact]
    public void PlusStringStaysUnweightedAndWeightsBindInOrderAndRoundTrip()
    {
        var plain = Parse("{ corpus: wordnet+mail }");
        Assert.Equal("wordnet+mail", plain.Data.Corpus);
        Assert.Null(plain.Data.Weights);
        Assert.Equal(["wordnet", "mail"], plain.Data.CorpusEntries);
        Assert.Contains("corpus: wordnet+mail", plain.ToYaml());

        var mixed = Parse("{ corpus: { wordnet: 0.4, mail: 0.3, moby-dick: 0.3 } }");
        Assert.Equal("wordnet+mail+moby-dick", mixed.Data.Corpus);
        Assert.Equal([new SourceWeight("wordnet", 0.4), new SourceWeight("mail", 0.3), new SourceWeight("moby-dick", 0.3)], mixed.Data.Weights!);
        var again = ConfigLoader.Parse<RunConfig>(mixed.ToYaml());
        Assert.Equal(mixed.Data.Weights, again.Data.Weights);
        Assert.Equal(mixed.Data.Corpus, again.Data.Corpus);
    }

    [Theory]
    [InlineData("{ corpus: { wordnet: 1, news: 1 } }", "data.corpus.news is not a corpus source; known: wordnet, glosses, examples, lemmas, mail, moby-dick, sotu, or a path to a .txt/.jsonl/.csv file")]
    [InlineData("{ corpus: { wordnet: -0.5 } }", "data.corpus.wordnet must be >= 0, got -0.5")]
    [InlineData("{ corpus: { wordnet: 0, mail: 0 } }", "data.corpus weights must sum to more than 0, got 0")]
    [InlineData("{ corpus: { wordnet: 1, glosses: 1 } }", "data.corpus 'glosses' overlaps 'wordnet' (both hold gloss texts); name each text once")]
    [InlineData("{ corpus: {} }", "data.corpus must name at least one source with its weight")]
    public void BadWeightsFailNamingTheKey(string data, string message) => Assert.Equal(message, Error(data));

    [Fact]
    public void ACorpusWithTheHeldOutDomainIsRefusedWhenItIsEvaluated()
    {
        var withSotu = Parse("{ corpus: { wordnet: 1, sotu: 1 } }", "[ wordnet-retrieval, sotu-retrieval ]");
        Assert.Equal("data.corpus contains 'sotu', the held-out domain of eval task sotu-retrieval: remove it from data.corpus or the task from eval",
            Assert.Throws<DistillSharpException>(() => RunData.CheckHeldOut(withSotu)).Message);
        Assert.Throws<DistillSharpException>(() => RunData.CheckHeldOut(Parse("{ corpus: wordnet+sotu }", "[ sotu-retrieval ]")));
        // Without the task, the speeches are just another source; with it and a corpus without them, the domain is named.
        Assert.Empty(RunData.CheckHeldOut(Parse("{ corpus: wordnet+sotu }")));
        Assert.Equal(["sotu"], RunData.CheckHeldOut(Parse("{ corpus: wordnet+mail }", "[ sotu-retrieval ]")));
    }

    [Fact]
    public void TheCliRefusesTheHeldOutDomainWithOneLineAndExitCode2()
    {
        string dir = Path.Combine(Path.GetTempPath(), "ds-heldout-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string config = Path.Combine(dir, "c.yaml");
            File.WriteAllText(config, Head + "data: { corpus: wordnet+sotu }\neval: [ sotu-retrieval ]\n");
            var (code, _, error) = CliHarness.Run("run", config, "--out", Path.Combine(dir, "run"));
            Assert.Equal(2, code);
            Assert.Contains("data.corpus contains 'sotu', the held-out domain of eval task sotu-retrieval", error);
            Assert.Single(error.Trim().Split('\n'));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

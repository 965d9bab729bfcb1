using DistillSharp.Data;
using DistillSharp.Runtime;

namespace DistillSharp.Tests.Data;

public sealed class TextSourceAndAugmenterTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("distillsharp-textsource-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void LoadsLinesJsonlAndCsv()
    {
        Assert.Equal(["one", "two"], TextSource.Load(Write("a.txt", "one\r\n\n  two  \n")));
        Assert.Equal(["hi", "there"], TextSource.Load(Write("a.jsonl", "{\"text\": \"hi\", \"id\": 1}\n\n{\"text\": \"there\"}\n")));
        Assert.Equal(["x"], TextSource.Load(Write("b.jsonl", "{\"body\": \"x\"}"), "body"));
        string csv = "id,text\n1,\"a, b\"\n2,\"she said \"\"hi\"\"\nthen left\"\n3,plain\n";
        Assert.Equal(["a, b", "she said \"hi\"\nthen left", "plain"], TextSource.Load(Write("a.csv", csv), "text"));
        Assert.Equal(["only"], TextSource.Load(Write("b.csv", "text\nonly\n")));
    }

    [Fact]
    public void ErrorsNameTheProblem()
    {
        Assert.Contains("does not exist", Assert.Throws<DistillSharpException>(() => TextSource.Load(Path.Combine(_dir, "none.txt"))).Message);
        Assert.Contains(".txt, .jsonl, .csv", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("a.parquet", "x"))).Message);
        Assert.Contains("line 2: not valid JSON", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("c.jsonl", "{\"text\":\"a\"}\n{oops"))).Message);
        Assert.Contains("no field 'text'; fields: body", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("d.jsonl", "{\"body\":\"a\"}"))).Message);
        Assert.Contains("is Number, expected a string", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("e.jsonl", "{\"text\":3}"))).Message);
        Assert.Contains("no column 'body'; columns: id, text", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("c.csv", "id,text\n1,a"), "body")).Message);
        Assert.Contains("name the column", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("d.csv", "id,text\n1,a"))).Message);
        Assert.Contains("not closed", Assert.Throws<DistillSharpException>(() => TextSource.Load(Write("e.csv", "text\n\"open"))).Message);
    }

    [Fact]
    public void SynonymReplacementUsesSynsetsAndIsSeeded()
    {
        var augmenter = new SynonymAugmenter([
            SyntheticData.Synset(1, 'n', ["dog", "domestic dog", "Canis familiaris"], "a dog"),
            SyntheticData.Synset(2, 'n', ["dog", "frump"], "an unattractive woman"),
            SyntheticData.Synset(3, 'n', ["Dog", "Canis"], "a genus (made up here to test case)"),
        ]);
        Assert.Equal(["Canis"], augmenter.SynonymsOf("Dog")); // the exact lemma wins over the lower-cased one
        Assert.Equal(["Canis familiaris", "domestic dog", "frump"], augmenter.SynonymsOf("dog"));
        Assert.Equal(["dog"], augmenter.SynonymsOf("frump"));
        Assert.Equal("The dog runs.", augmenter.Augment("The dog runs.", 0.0, new SplitMix64(1)));
        string replaced = augmenter.Augment("The dog runs.", 1.0, new SplitMix64(1));
        Assert.Contains(replaced, new[] { "The Canis familiaris runs.", "The domestic dog runs.", "The frump runs." });
        Assert.Equal("Dog runs", augmenter.Augment("Frump runs", 1.0, new SplitMix64(3))); // "Frump" → "frump" → "dog", capital kept
        var texts = Enumerable.Repeat("dog and dog and dog", 20).ToList();
        Assert.Equal(augmenter.Augment(texts, 0.5, 42), augmenter.Augment(texts, 0.5, 42));
        Assert.NotEqual(augmenter.Augment(texts, 0.5, 42), augmenter.Augment(texts, 0.5, 43));
        Assert.Contains("must be in [0, 1]", Assert.Throws<DistillSharpException>(() => augmenter.Augment("dog", 1.5, new SplitMix64(1))).Message);
    }

    [Fact]
    public void SplitMix64MatchesReferenceSequence()
    {
        // First outputs for seed 1234567 from the reference C implementation (Vigna, splitmix64.c).
        var random = new SplitMix64(1234567);
        Assert.Equal(6457827717110365317UL, random.NextUInt64());
        Assert.Equal(3203168211198807973UL, random.NextUInt64());
    }
}

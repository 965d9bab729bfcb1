using DistillSharp.Data;
using DistillSharp.Data.Labelled;

namespace DistillSharp.Tests.Data.Labelled;

/// <summary>Labelled datasets, splits and leakage on small made-up data.</summary>
public sealed class LabelledDataTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("labelled-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static WordNetSynset Synset(long offset, char pos, string lex, string definition) =>
        new(offset, pos, lex, ["w" + offset], [], definition.Length > 0 ? [definition] : [], []);

    [Fact]
    public void WordNetCategoriesMapDefinitionsToLexicographerFiles()
    {
        var db = new WordNetDatabase([
            Synset(1, 'n', "noun.animal", "a domestic carnivore"),
            Synset(2, 'v', "verb.motion", "move fast"),
            Synset(3, 'n', "noun.artifact", "a thing made"),
            Synset(4, 'n', "noun.artifact", "A  thing made"),      // same text, same label: one kept
            Synset(5, 'n', "noun.food", "something shared"),
            Synset(6, 'v', "verb.social", "something shared"),     // same text, two labels: both dropped
            Synset(7, 'a', "adj.all", "not a noun or verb"),
            Synset(8, 'n', "noun.animal", ""),
        ]);
        var e = Assert.Throws<DistillSharpException>(() => WordNetCategories.Build(db));
        Assert.Contains("have no examples", e.Message);                      // 41 labels, most empty here
        Assert.Equal(41, WordNetCategories.Labels.Count);
        Assert.Equal("noun.Tops", WordNetCategories.Labels[0]);
        Assert.Equal("verb.weather", WordNetCategories.Labels[^1]);
        var items = new LabelledDataset("t", db.Synsets.Where(s => s.Pos is 'n' or 'v' && s.Definitions.Count > 0)
            .Select(s => new LabelledText(s.Id, s.Definition, s.LexFile)).ToList(), WordNetCategories.Labels, []).Deduplicated();
        Assert.Equal(["00000001-n", "00000002-v", "00000003-n"], items.Items.Select(i => i.Id));
        Assert.Contains(items.Notes, n => n.StartsWith("1 texts dropped that repeat"));
        Assert.Contains(items.Notes, n => n.StartsWith("2 texts dropped whose identical text carries different labels"));
    }

    [Fact]
    public void CsvWithNamedColumnsLoads()
    {
        string path = Write("d.csv", "id,utterance,intent\n1,\"book a table, please\",restaurant\n2,play some jazz,music\n3,,music\n4,what's the weather,weather\n");
        var d = LabelledFile.Load(path, "utterance", "intent");
        Assert.Equal(["restaurant", "music", "weather"], d.Labels);
        Assert.Equal("book a table, please", d.Items[0].Text);
        Assert.Equal("row 2", d.Items[0].Id);
        Assert.Contains("1 rows with an empty text ('utterance') skipped", d.Notes);
    }

    [Fact]
    public void JsonlWithNamedFieldsLoads()
    {
        string path = Write("d.jsonl", "{\"t\": \"hello there\", \"y\": \"greet\"}\n\n{\"t\": \"bye now\", \"y\": \"leave\"}\n");
        var d = LabelledFile.Load(path, "t", "y");
        Assert.Equal(["line 1", "line 3"], d.Items.Select(i => i.Id));
    }

    public static TheoryData<string, string, string[]?, string> BadFiles => new()
    {
        { "d.csv", "text,label\nhello,a\nbye,b\n", ["a", "b", "c"], "class 'c' has no examples" },
        { "d.csv", "text,label\nhello,a\nbye,x\n", ["a", "b"], "row 3: unknown label 'x'; the config's labels: a, b" },
        { "d.csv", "text,intent\nhello,a\nbye,b\n", null, "no label column 'label'; columns: text, intent" },
        { "d.csv", "text,label\nhello,\nbye,b\n", null, "row 2: the label ('label') is empty" },
        { "d.jsonl", "{\"text\": \"hi\", \"intent\": \"a\"}\n", null, "line 1: no label field 'label'; fields: text, intent" },
        { "d.tsv", "x", null, "has extension '.tsv'" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGiveOneClearError(string name, string content, string[]? labels, string message)
    {
        var e = Assert.Throws<DistillSharpException>(() => LabelledFile.Load(Write(name, content), "text", "label", labels));
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    static LabelledDataset Synthetic(params (string Label, int Count)[] classes) => new("syn",
        classes.SelectMany(c => Enumerable.Range(0, c.Count).Select(i => new LabelledText($"{c.Label}-{i:D4}", $"text {i} about {c.Label}", c.Label))).ToList(),
        classes.Select(c => c.Label).ToList(), []);

    [Fact]
    public void SplitIsStratifiedSeededAndDisjoint()
    {
        var d = Synthetic(("a", 100), ("b", 30), ("c", 3));
        var split = StratifiedSplit.Split(d, 0.1, 0.2, seed: 5);
        Assert.Equal([("a", 70, 10, 20), ("b", 21, 3, 6), ("c", 1, 1, 1)], split.ClassCounts().Select(c => (c.Label, c.Train, c.Dev, c.Test)));
        var all = split.Train.Concat(split.Dev).Concat(split.Test).Select(i => i.Id).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(split.Test.Select(i => i.Id), StratifiedSplit.Split(d, 0.1, 0.2, seed: 5).Test.Select(i => i.Id));
        Assert.NotEqual(split.Test.Select(i => i.Id), StratifiedSplit.Split(d, 0.1, 0.2, seed: 6).Test.Select(i => i.Id));
        Assert.Equal(split.Train.Select(i => i.Id).Order(StringComparer.Ordinal), split.Train.Select(i => i.Id));
    }

    [Fact]
    public void TrainingBudgetKeepsProportionsAndEveryLabel()
    {
        var split = StratifiedSplit.Split(Synthetic(("a", 200), ("b", 50), ("c", 10)), 0.1, 0.1, seed: 5, maxTrain: 52);
        var counts = split.ClassCounts();
        Assert.Equal(52, split.Train.Count);
        Assert.Equal([40, 10, 2], counts.Select(c => c.Train));                 // 160 / 40 / 8 train texts, scaled by 52/208
        Assert.Equal(20, counts[0].Test);                                      // dev and test are not cut
        Assert.Contains(split.Notes, n => n.Contains("labelled budget of 52"));
        Assert.Equal(208 - 52, split.Unlabelled!.Count);                       // the rest of the train side, labels unused
        Assert.Empty(split.Unlabelled.Select(i => i.Id).Intersect(split.Train.Concat(split.Test).Select(i => i.Id)));
    }

    [Fact]
    public void TrainingTextsAddUnlabelledTextsButNoHeldOutOne()
    {
        var split = StratifiedSplit.Split(Synthetic(("a", 20), ("b", 20)), 0.1, 0.1, seed: 5);
        string test = split.Test[0].Text, train = split.Train[0].Text;
        var (texts, dropped) = TrainingTexts.WithUnlabelled(split, ["new text one", test.ToUpperInvariant(), train, "new text one", "new text two"]);
        Assert.Equal(1, dropped);
        Assert.Equal(split.Train.Count + 2, texts.Texts.Count);
        Assert.Equal(split.Train.Count, texts.LabelledCount);
        Assert.Equal([TrainingTexts.Unlabelled, TrainingTexts.Unlabelled], texts.Labels.TakeLast(2));
        Assert.Equal(split.ClassIds(split.Train).Select(i => (long)i), texts.Labels.Take(split.Train.Count));
    }

    [Fact]
    public void TooSmallClassNamesItself()
    {
        var e = Assert.Throws<DistillSharpException>(() => StratifiedSplit.Split(Synthetic(("a", 10), ("b", 2)), 0.1, 0.1, 1));
        Assert.Contains("class 'b' has 2 example(s)", e.Message);
    }

    [Fact]
    public void LeakageFilterAndGuard()
    {
        var test = new List<LabelledText> { new("t1", "A held-out  definition", "a") };
        var (kept, dropped) = LeakageCheck.Filter(["a held-out definition", "something else"], test);
        Assert.Equal(["something else"], kept);
        Assert.Equal(1, dropped);
        Assert.Equal(2, LeakageCheck.Verify(test, ("train", ["x", "y"])));
        var e = Assert.Throws<DistillSharpException>(() => LeakageCheck.Verify(test, ("train", ["x"]), ("distillation corpus", ["a HELD-OUT definition"])));
        Assert.Equal("leak: test text t1 (\"a HELD-OUT definition\") is also in the distillation corpus texts", e.Message);
    }

    [Fact]
    public void SpamDatasetLabelsAndCutsMails()
    {
        var mails = SyntheticData.Mails(3, 3);
        mails.Add(new("spam-2/00001", "spam-2", true, new ParsedMail("long", string.Join(" ", Enumerable.Repeat("word", 800)))));
        var d = SpamDataset.Build(mails);
        Assert.Equal(["ham", "spam"], d.Labels);
        Assert.Equal([("ham", 3), ("spam", 4)], d.ClassCounts());
        Assert.Equal(SpamDataset.MaxChars, d.Items.Single(i => i.Id == "spam-2/00001").Text.Length);
        Assert.Contains("1 cut to 2000 characters", d.Notes[0]);
    }

    string Write(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}

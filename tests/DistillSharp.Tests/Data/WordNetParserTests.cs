using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

public class WordNetParserTests
{
    // Written by hand in the wndb(5WN) layout; the gloss and pointers follow the real "dog" synset.
    const string NounLine = "02086723 05 n 03 dog 0 domestic_dog 0 Canis_familiaris 0 002 @ 02085998 n 0000 ~ 01325095 n 0000 " +
        "| a member of the genus Canis (probably descended from the common wolf); occurs in many breeds; \"the dog barked all night\"  ";

    [Fact]
    public void ParsesNounLine()
    {
        var s = WordNetParser.ParseLine(NounLine);
        Assert.Equal(2086723, s.Offset);
        Assert.Equal('n', s.Pos);
        Assert.Equal("02086723-n", s.Id);
        Assert.Equal("noun.animal", s.LexFile);
        Assert.Equal(["dog", "domestic dog", "Canis familiaris"], s.Words);
        Assert.Equal("dog, domestic dog, Canis familiaris", s.LemmaList);
        Assert.Equal(2, s.Pointers.Count);
        Assert.Equal(new WordNetPointer("@", 2085998, 'n', 0, 0), s.Pointers[0]);
        Assert.Equal(["a member of the genus Canis (probably descended from the common wolf)", "occurs in many breeds"], s.Definitions);
        Assert.Equal(["the dog barked all night"], s.Examples);
    }

    [Fact]
    public void AdjectiveMarkersHexFieldsAndQuotedSemicolons()
    {
        const string line = "00005838 00 s 02 living(a) 0 alive(p) 1 001 & 00005204 a 0a01 " +
            "| (informal) absolute; \"she is a living fool\"; \"every right implies a responsibility; every duty\"- J. D. Rockefeller  ";
        var s = WordNetParser.ParseLine(line);
        Assert.Equal('s', s.Pos);
        Assert.Equal("adj.all", s.LexFile);
        Assert.Equal(["living", "alive"], s.Words);
        Assert.Equal(new WordNetPointer("&", 5204, 'a', 10, 1), s.Pointers[0]);
        Assert.Equal(["(informal) absolute"], s.Definitions);
        Assert.Equal(["she is a living fool", "every right implies a responsibility; every duty"], s.Examples);
    }

    [Fact]
    public void VerbFramesAreSkipped()
    {
        var s = WordNetParser.ParseLine("00001740 29 v 01 breathe 0 001 * 00005041 v 0000 02 + 02 00 + 08 00 " +
            "| draw air into, and expel out of, the lungs; \"I can breathe better\"  ");
        Assert.Equal("verb.body", s.LexFile);
        Assert.Equal(["breathe"], s.Words);
        Assert.Single(s.Pointers);
        Assert.Equal(["draw air into, and expel out of, the lungs"], s.Definitions);
        Assert.Equal(["I can breathe better"], s.Examples);
    }

    [Fact]
    public void SeveralQuotedExamplesInOneSegment()
    {
        var (definitions, examples) = WordNetParser.SplitGloss("to run; \"he ran\" \"she runs\"");
        Assert.Equal(["to run"], definitions);
        Assert.Equal(["he ran", "she runs"], examples);
    }

    [Fact]
    public void BadFieldsAreNamed()
    {
        var e = Assert.Throws<FormatException>(() => WordNetParser.ParseLine("00001740 99 n 01 dog 0 000 | x"));
        Assert.Contains("lex_filenum 99", e.Message);
        e = Assert.Throws<FormatException>(() => WordNetParser.ParseLine("00001740 05 n zz dog 0 000 | x"));
        Assert.Contains("w_cnt 'zz'", e.Message);
        e = Assert.Throws<FormatException>(() => WordNetParser.ParseLine("00001740 05 n 02 dog 0"));
        Assert.Contains("word 2", e.Message);
    }

    [Fact]
    public void ParseFileSkipsLicenseHeaderAndNamesTheBadLine()
    {
        string text = "  1 This software and database is being provided to you\n" + NounLine + "\n00001740 05 q 00 000 | x\n";
        var e = Assert.Throws<DistillSharpException>(() => WordNetDatabase.ParseFile(text, "data.noun").ToList());
        Assert.Contains("data.noun line 3", e.Message);
        Assert.Single(WordNetDatabase.ParseFile(text.Split('\n')[0] + "\n" + NounLine, "data.noun"));
    }
}

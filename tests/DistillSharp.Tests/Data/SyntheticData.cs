using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

/// <summary>Small made-up WordNet databases and mail corpora for fast tests.</summary>
static class SyntheticData
{
    public static WordNetSynset Synset(long offset, char pos, string[] words, string definition, params string[] examples) =>
        new(offset, pos, "noun.Tops", words, [], definition.Length > 0 ? [definition] : [], examples);

    /// <summary>
    /// <paramref name="nouns"/> distinct noun synsets "wordI" / "definition of thing I", example
    /// "an example with wordI"; plus two nouns that share a lemma list (never eligible), one noun
    /// without definition (never eligible) and three verbs.
    /// </summary>
    public static WordNetDatabase WordNet(int nouns)
    {
        var synsets = new List<WordNetSynset>();
        for (int i = 0; i < nouns; i++)
            synsets.Add(Synset(1000 + i, 'n', [$"word{i}", $"term{i}"], $"definition of thing {i}", $"an example with word{i}"));
        synsets.Add(Synset(5000, 'n', ["bank"], "sloping land beside water"));
        synsets.Add(Synset(5001, 'n', ["bank"], "a financial institution"));
        synsets.Add(Synset(5002, 'n', ["nothing"], ""));
        for (int i = 0; i < 3; i++) synsets.Add(Synset(2000 + i, 'v', [$"do{i}"], $"to do thing {i}", $"we do{i} it"));
        return new WordNetDatabase(synsets);
    }

    /// <summary>Mails "ham-group/0000i" and "spam-group/0000i" whose text says what they are.</summary>
    public static List<LabelledMail> Mails(int ham, int spam)
    {
        var mails = new List<LabelledMail>();
        for (int i = 0; i < ham; i++)
            mails.Add(new($"easy-ham-1/{i:D5}", "easy-ham-1", false,
                new ParsedMail($"meeting notes {i}", $"Hello team. The meeting number {i} is on Monday. Please bring the quarterly report {i}.")));
        for (int i = 0; i < spam; i++)
            mails.Add(new($"spam-1/{i:D5}", "spam-1", true,
                new ParsedMail($"cheap offer {i}", $"Buy now and save big on offer {i}! Limited time only, click the link to claim prize {i}.")));
        return mails;
    }
}

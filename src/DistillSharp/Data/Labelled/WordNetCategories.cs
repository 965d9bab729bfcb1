namespace DistillSharp.Data.Labelled;

/// <summary>
/// The <c>wordnet-categories</c> dataset, an intent-recognition stand-in: a noun or verb synset's
/// definition → its lexicographer file (lexnames(5WN): 26 noun categories such as noun.animal and
/// 15 verb categories such as verb.motion, 41 classes, from 11,605 examples of noun.artifact to 42
/// of noun.motive in WordNet 3.1). Synsets without a definition are skipped; repeated definitions
/// are resolved by <see cref="LabelledDataset.Deduplicated"/>.
/// </summary>
public static class WordNetCategories
{
    /// <summary>The dataset's name.</summary>
    public const string Name = "wordnet-categories";

    /// <summary>The 41 labels in lex_filenum order.</summary>
    public static IReadOnlyList<string> Labels { get; } =
        WordNetLexNames.ByNumber.Where(n => n.StartsWith("noun.") || n.StartsWith("verb.")).ToList();

    /// <summary>Builds the dataset from a WordNet database (ids are synset ids).</summary>
    public static LabelledDataset Build(WordNetDatabase database)
    {
        var items = new List<LabelledText>();
        int undefined = 0;
        foreach (var synset in database.Synsets.Where(s => s.Pos is 'n' or 'v'))
        {
            if (synset.Definitions.Count == 0) { undefined++; continue; }
            items.Add(new LabelledText(synset.Id, synset.Definition, synset.LexFile));
        }
        var notes = new List<string> { $"{items.Count} noun and verb synsets with a definition" };
        if (undefined > 0) notes.Add($"{undefined} synsets without a definition skipped");
        return new LabelledDataset(Name, items, Labels, notes).Deduplicated().Validate();
    }
}

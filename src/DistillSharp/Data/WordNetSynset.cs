namespace DistillSharp.Data;

/// <summary>One pointer of a synset (hypernym, antonym, …) as written in a WordNet data file.</summary>
/// <param name="Symbol">Pointer symbol, e.g. <c>@</c> hypernym, <c>~</c> hyponym, <c>!</c> antonym.</param>
/// <param name="TargetOffset">Byte offset of the target synset in its data file.</param>
/// <param name="TargetPos">Part of speech of the target: n, v, a, s or r.</param>
/// <param name="SourceWord">1-based word number in this synset, 0 when the pointer is semantic (whole synset).</param>
/// <param name="TargetWord">1-based word number in the target synset, 0 when semantic.</param>
public sealed record WordNetPointer(string Symbol, long TargetOffset, char TargetPos, int SourceWord, int TargetWord);

/// <summary>
/// A WordNet synset: its lemmas (underscores turned into spaces, adjective markers such as
/// <c>(p)</c> removed) and its gloss split into definitions and quoted example sentences.
/// </summary>
/// <param name="Offset">Byte offset in the data file; unique per part of speech.</param>
/// <param name="Pos">n (noun), v (verb), a (adjective), s (satellite adjective) or r (adverb).</param>
/// <param name="LexFile">Lexicographer file name, e.g. <c>noun.animal</c>.</param>
/// <param name="Words">Lemmas in file order.</param>
/// <param name="Pointers">Pointers in file order.</param>
/// <param name="Definitions">The gloss's definitions (the parts between semicolons that are not quoted).</param>
/// <param name="Examples">The gloss's quoted example sentences, without quotes or attributions.</param>
public sealed record WordNetSynset(
    long Offset, char Pos, string LexFile, IReadOnlyList<string> Words, IReadOnlyList<WordNetPointer> Pointers,
    IReadOnlyList<string> Definitions, IReadOnlyList<string> Examples)
{
    /// <summary>Stable id in the usual <c>offset-pos</c> form, e.g. <c>02086723-n</c>.</summary>
    public string Id => $"{Offset:D8}-{Pos}";

    /// <summary>The definitions joined with "; ", the natural query text.</summary>
    public string Definition => string.Join("; ", Definitions);

    /// <summary>The lemmas joined with ", ", the natural candidate text.</summary>
    public string LemmaList => string.Join(", ", Words);
}

/// <summary>The 45 lexicographer file names of WordNet 3.x, indexed by <c>lex_filenum</c> (lexnames(5WN)).</summary>
public static class WordNetLexNames
{
    /// <summary>Names by number.</summary>
    public static readonly IReadOnlyList<string> ByNumber =
    [
        "adj.all", "adj.pert", "adv.all", "noun.Tops", "noun.act", "noun.animal", "noun.artifact",
        "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
        "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person",
        "noun.phenomenon", "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation",
        "noun.shape", "noun.state", "noun.substance", "noun.time", "verb.body", "verb.change", "verb.cognition",
        "verb.communication", "verb.competition", "verb.consumption", "verb.contact", "verb.creation",
        "verb.emotion", "verb.motion", "verb.perception", "verb.possession", "verb.social", "verb.stative",
        "verb.weather", "adj.ppl",
    ];
}

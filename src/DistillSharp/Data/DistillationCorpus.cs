namespace DistillSharp.Data;

/// <summary>One text of the distillation corpus and where it came from.</summary>
/// <param name="Text">The text.</param>
/// <param name="Source">Kind and origin: <c>gloss:&lt;synset&gt;</c>, <c>example:&lt;synset&gt;</c>, <c>lemmas:&lt;synset&gt;</c>,
/// <c>mail:&lt;mail id&gt;</c> or <c>&lt;document source&gt;:&lt;document id&gt;</c> (<c>moby-dick:chapter_1</c>).</param>
public sealed record CorpusItem(string Text, string Source);

/// <summary>What goes into the distillation corpus.</summary>
/// <param name="Glosses">WordNet definitions (one item per synset, definitions joined with "; ").</param>
/// <param name="Examples">WordNet example sentences (one item each).</param>
/// <param name="Lemmas">WordNet lemma lists ("dog, domestic dog, Canis familiaris").</param>
/// <param name="Mails">Chunks of training mails (subject and body).</param>
/// <param name="MaxChunkChars">Mail chunk length limit.</param>
/// <param name="MinChunkChars">Shorter mail chunks are dropped.</param>
public sealed record CorpusOptions(
    bool Glosses = true, bool Examples = true, bool Lemmas = true, bool Mails = true,
    int MaxChunkChars = 300, int MinChunkChars = 20);

/// <summary>
/// Builds the distillation corpus from the training side of the splits. It never contains held-out
/// material: evaluation synsets and test mails are not read at all, and any text equal (see
/// <see cref="DataSplits.Key"/>) to a held-out definition, example, lemma list, lemma or test-mail
/// chunk is dropped too (WordNet repeats some glosses, and mailing lists repeat footers).
/// </summary>
public static class DistillationCorpus
{
    /// <summary>
    /// Builds the corpus; items are in a fixed order (WordNet by synset, then mails by id, then
    /// <paramref name="documents"/> in the order given, each cut into chunks like a mail).
    /// </summary>
    public static IReadOnlyList<CorpusItem> Build(WordNetSplit? wordnet, MailSplit? mails, CorpusOptions? options = null,
        IReadOnlyList<LmDocument>? documents = null)
    {
        options ??= new CorpusOptions();
        var heldOut = HeldOutKeys(wordnet, mails, options);
        var items = new List<CorpusItem>();
        var seen = new HashSet<string>();
        void Add(string text, string source)
        {
            string key = DataSplits.Key(text);
            if (key.Length > 0 && !heldOut.Contains(key) && seen.Add(key)) items.Add(new CorpusItem(text, source));
        }
        foreach (var synset in wordnet?.Training ?? [])
        {
            if (options.Glosses && synset.Definitions.Count > 0) Add(synset.Definition, "gloss:" + synset.Id);
            if (options.Examples) foreach (string example in synset.Examples) Add(example, "example:" + synset.Id);
            if (options.Lemmas && synset.Words.Count > 0) Add(synset.LemmaList, "lemmas:" + synset.Id);
        }
        if (options.Mails)
            foreach (var mail in mails?.Train ?? [])
                foreach (string chunk in SentenceChunker.Chunk(mail.Text, options.MaxChunkChars, options.MinChunkChars))
                    Add(chunk, "mail:" + mail.Id);
        foreach (var document in documents ?? [])
            foreach (string chunk in SentenceChunker.Chunk(document.Text, options.MaxChunkChars, options.MinChunkChars))
                Add(chunk, document.Source + ":" + document.Id);
        return items;
    }

    /// <summary>The comparison keys of every held-out text the corpus must not contain.</summary>
    public static HashSet<string> HeldOutKeys(WordNetSplit? wordnet, MailSplit? mails, CorpusOptions options)
    {
        var keys = new HashSet<string>();
        foreach (var synset in wordnet?.Evaluation ?? [])
        {
            keys.Add(DataSplits.Key(synset.Definition));
            keys.Add(DataSplits.Key(synset.LemmaList));
            foreach (string text in synset.Definitions.Concat(synset.Examples).Concat(synset.Words)) keys.Add(DataSplits.Key(text));
        }
        foreach (var mail in mails?.Test ?? [])
        {
            keys.Add(DataSplits.Key(mail.Mail.Subject));
            foreach (string chunk in SentenceChunker.Chunk(mail.Text, options.MaxChunkChars, options.MinChunkChars)) keys.Add(DataSplits.Key(chunk));
        }
        keys.Remove("");
        return keys;
    }
}

using DistillSharp.Runtime;
namespace DistillSharp.Data;

/// <summary>WordNet split: held-out noun synsets for evaluation, the rest for distillation.</summary>
/// <param name="Evaluation">Held-out noun synsets (in shuffled order).</param>
/// <param name="Training">Every other synset of every part of speech, in database order.</param>
public sealed record WordNetSplit(IReadOnlyList<WordNetSynset> Evaluation, IReadOnlyList<WordNetSynset> Training);

/// <summary>Mail split for spam-f1 (stratified by label).</summary>
/// <param name="Train">Mails for training the classifier (and the only mails the corpus may use).</param>
/// <param name="Test">Held-out mails.</param>
public sealed record MailSplit(IReadOnlyList<LabelledMail> Train, IReadOnlyList<LabelledMail> Test);

/// <summary>
/// The fixed-seed splits every DistillSharp run shares, so evaluation numbers are comparable and
/// the distillation corpus can exclude exactly what is evaluated.
/// </summary>
public static class DataSplits
{
    /// <summary>The seed of every split.</summary>
    public const ulong Seed = 20261128;

    /// <summary>Held-out noun synsets for wordnet-retrieval.</summary>
    public const int EvaluationSynsets = 2000;

    /// <summary>Share of each label's mails held out for spam-f1.</summary>
    public const double MailTestFraction = 0.2;

    /// <summary>
    /// Picks <paramref name="count"/> noun synsets for evaluation among the eligible ones: at least
    /// one lemma and a definition, and a lemma list and definition that no other noun synset has
    /// (a duplicated candidate text would make retrieval ambiguous). Eligible synsets are taken in
    /// offset order, shuffled with <paramref name="seed"/>, and the first <paramref name="count"/> kept.
    /// </summary>
    public static WordNetSplit SplitWordNet(WordNetDatabase database, int count = EvaluationSynsets, ulong seed = Seed)
    {
        var nouns = database.Nouns.ToList();
        var lemmaCounts = CountBy(nouns, s => s.LemmaList);
        var definitionCounts = CountBy(nouns, s => s.Definition);
        var eligible = nouns
            .Where(s => s.Words.Count > 0 && s.Definitions.Count > 0
                && lemmaCounts[Key(s.LemmaList)] == 1 && definitionCounts[Key(s.Definition)] == 1)
            .OrderBy(s => s.Offset)
            .ToList();
        if (count <= 0 || count > eligible.Count)
            throw new DistillSharpException($"cannot hold out {count} noun synsets: must be in 1..{eligible.Count} (the eligible ones)");
        var evaluation = new SplitMix64(seed).Shuffled(eligible).Take(count).ToList();
        var held = evaluation.Select(s => s.Id).ToHashSet();
        var training = database.Synsets.Where(s => !held.Contains(s.Id)).ToList();
        return new WordNetSplit(evaluation, training);
    }

    /// <summary>
    /// Holds out round(<paramref name="testFraction"/> × n) mails of each label: mails sorted by id,
    /// shuffled with <paramref name="seed"/>, first ones to the test set. Both sets keep id order.
    /// </summary>
    public static MailSplit SplitMails(IReadOnlyList<LabelledMail> mails, double testFraction = MailTestFraction, ulong seed = Seed)
    {
        if (testFraction <= 0 || testFraction >= 1)
            throw new DistillSharpException($"mail test fraction {testFraction} must be in (0, 1)");
        var ids = mails.Select(m => m.Id).ToList();
        if (ids.Distinct().Count() != ids.Count) throw new DistillSharpException("mail ids must be unique to split them");
        var random = new SplitMix64(seed);
        var test = new HashSet<string>();
        foreach (bool spam in new[] { false, true })
        {
            var ofLabel = mails.Where(m => m.IsSpam == spam).OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
            int take = (int)Math.Round(testFraction * ofLabel.Count, MidpointRounding.AwayFromZero);
            foreach (var m in random.Shuffled(ofLabel).Take(take)) test.Add(m.Id);
        }
        var ordered = mails.OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
        return new MailSplit(ordered.Where(m => !test.Contains(m.Id)).ToList(), ordered.Where(m => test.Contains(m.Id)).ToList());
    }

    /// <summary>The comparison key for "same text": trimmed, whitespace-collapsed, lower-case.</summary>
    public static string Key(string text) => WhitespaceNormalizer.SingleLine(text).ToLowerInvariant();

    static Dictionary<string, int> CountBy(IEnumerable<WordNetSynset> synsets, Func<WordNetSynset, string> text)
    {
        var counts = new Dictionary<string, int>();
        foreach (var s in synsets) counts[Key(text(s))] = counts.GetValueOrDefault(Key(text(s))) + 1;
        return counts;
    }
}

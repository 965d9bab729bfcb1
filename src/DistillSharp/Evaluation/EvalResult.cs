using DistillSharp.Data;
using DistillSharp.Evaluation.Encoder;

namespace DistillSharp.Evaluation;

/// <summary>The outcome of one evaluation task.</summary>
/// <param name="Task">Registry name of the task, e.g. <c>wordnet-retrieval</c>.</param>
/// <param name="Metrics">Metric name → value, e.g. <c>r1</c>, <c>r10</c>, <c>mrr</c>.</param>
public sealed record EvalResult(string Task, IReadOnlyDictionary<string, double> Metrics);

/// <summary>An evaluation task; one file each, listed in <see cref="EvalRegistry"/>.</summary>
public interface IEvalTask
{
    /// <summary>Registry name.</summary>
    string Name { get; }

    /// <summary>Runs the task with the model(s) and data of <paramref name="context"/>.</summary>
    EvalResult Run(EvalContext context);
}

/// <summary>
/// The data evaluation runs on, loaded at most once per context: the real datasets by default
/// (fetched on first use), or anything a test supplies.
/// </summary>
public sealed class EvalData
{
    readonly Lazy<WordNetSplit> _wordnet;
    readonly Lazy<MailSplit> _mails;
    readonly Lazy<IReadOnlyList<LmDocument>> _speeches;

    /// <summary>
    /// Data from loaders of a WordNet database, a labelled mail corpus and (for the held-out domain)
    /// State of the Union speeches, split with <see cref="DataSplits"/> (tests may hold out fewer synsets).
    /// </summary>
    public EvalData(Func<WordNetDatabase> wordnet, Func<IReadOnlyList<LabelledMail>> mails, int evaluationSynsets = DataSplits.EvaluationSynsets,
        Func<IReadOnlyList<LmDocument>>? speeches = null)
    {
        _wordnet = new Lazy<WordNetSplit>(() => DataSplits.SplitWordNet(wordnet(), evaluationSynsets));
        _mails = new Lazy<MailSplit>(() => DataSplits.SplitMails(mails()));
        _speeches = new Lazy<IReadOnlyList<LmDocument>>(() => speeches?.Invoke()
            ?? throw new DistillSharpException("this evaluation data has no State of the Union speeches (needed by sotu-retrieval)"));
    }

    /// <summary>The real WordNet, SpamAssassin and State of the Union data; fetch messages go to <paramref name="log"/>.</summary>
    public static EvalData Real(TextWriter log) => new(() => WordNetDatabase.Load(log), () => SpamCorpus.Load(log),
        speeches: () => LmTextCorpus.StateOfTheUnionFrom(Fetcher.FetchDataset(DatasetCatalog.StateOfTheUnion, log)));

    /// <summary>The WordNet split (held-out noun synsets + training synsets).</summary>
    public WordNetSplit WordNet => _wordnet.Value;

    /// <summary>The 80/20 mail split.</summary>
    public MailSplit Mails => _mails.Value;

    /// <summary>State of the Union speeches, one document each: a domain no distillation corpus of a run that evaluates it may contain.</summary>
    public IReadOnlyList<LmDocument> Speeches => _speeches.Value;

    /// <summary>
    /// A content key (<see cref="ContentKey"/>) of the WordNet and mail data every task but the held-out
    /// domain's reads: each split's synsets' definitions and lemma lists, each split's mails' labels and
    /// texts, in order. Computed once.
    /// </summary>
    public string ContentHash => _contentHash ??= Hash();

    /// <summary>A content key of the State of the Union speeches (source, id, text of each, in order), for the held-out domain's task. Computed once.</summary>
    public string SpeechesHash => _speechesHash ??= HashSpeeches();

    string? _contentHash, _speechesHash;

    string HashSpeeches()
    {
        using var key = new ContentKey("distillsharp-eval-speeches-v1");
        key.Add(Speeches.Count.ToString());
        foreach (var d in Speeches) key.Add(d.Source).Add(d.Id).Add(d.Text);
        return key.Key();
    }

    string Hash()
    {
        using var key = new ContentKey("distillsharp-eval-data-v1");
        foreach (var (name, synsets) in new[] { ("wordnet-evaluation", WordNet.Evaluation), ("wordnet-training", WordNet.Training) })
        {
            key.Add(name).Add(synsets.Count.ToString());
            foreach (var s in synsets) key.Add(s.Definition).Add(s.LemmaList);
        }
        foreach (var (name, mails) in new[] { ("mails-train", Mails.Train), ("mails-test", Mails.Test) })
        {
            key.Add(name).Add(mails.Count.ToString());
            foreach (var m in mails) key.Add(m.IsSpam ? "spam" : "ham").Add(m.Text);
        }
        return key.Key();
    }
}

/// <summary>What a task needs.</summary>
/// <param name="Embed">The model under test: texts → one embedding each (raw or L2-normalized; tasks normalize where needed).</param>
/// <param name="Data">Evaluation data.</param>
/// <param name="TeacherEmbed">The teacher, for <c>agreement</c>.</param>
/// <param name="BatchSize">Texts per call of <paramref name="Embed"/>.</param>
/// <param name="MaxMailChars">Mail texts (subject + body) are cut to this many characters before embedding (the tokenizer truncates further).</param>
/// <param name="Log">Progress messages, or null.</param>
public sealed record EvalContext(
    Func<IReadOnlyList<string>, float[][]> Embed, EvalData Data,
    Func<IReadOnlyList<string>, float[][]>? TeacherEmbed = null, int BatchSize = 64, int MaxMailChars = 2000,
    TextWriter? Log = null);

using DistillSharp.Config.Encoder;
using DistillSharp.Data;
using DistillSharp.Evaluation;
using DistillSharp.Evaluation.Encoder;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// The data of a run: the evaluation splits (held out by a fixed seed) and the distillation corpus
/// built from the training side only. <c>data.corpus</c> names the sources (<see cref="CorpusSources"/>:
/// <c>wordnet</c> = glosses, examples and lemma lists; <c>mail</c> = training-mail chunks; <c>moby-dick</c>,
/// <c>sotu</c> = chunks of the book and the speeches; <c>glosses</c>, <c>examples</c>, <c>lemmas</c> one by
/// one) and paths to the user's own text (one per line), JSONL ("text" field) or CSV ("text" column)
/// files — joined by '+' for the plain concatenation, or as a mapping of weights for a seeded mix
/// (<see cref="CorpusMix"/>). Texts equal to a held-out domain's evaluation texts are dropped.
/// </summary>
public sealed class RunData
{
    /// <summary>Corpus source names.</summary>
    public static IReadOnlyList<string> Sources => CorpusSources.Names;

    RunData(EvalData eval, MixedCorpus corpus, IReadOnlyList<string> texts)
    {
        Eval = eval;
        Mix = corpus;
        Corpus = texts;
    }

    /// <summary>Evaluation data (real WordNet, SpamAssassin and State of the Union, fetched on first use).</summary>
    public EvalData Eval { get; }

    /// <summary>What the corpus holds per source (before augmentation).</summary>
    public MixedCorpus Mix { get; }

    /// <summary>The training texts, in a fixed order.</summary>
    public IReadOnlyList<string> Corpus { get; }

    /// <summary>The corpus texts per source as the report records them (augmented copies as <c>augmented</c>).</summary>
    public IReadOnlyDictionary<string, int> TextsPerSource
    {
        get
        {
            var counts = Mix.Shares.ToDictionary(s => s.Source, s => s.Texts);
            if (Corpus.Count > Mix.Texts.Count) counts["augmented"] = Corpus.Count - Mix.Texts.Count;
            return counts;
        }
    }

    /// <summary>
    /// The held-out domains of <paramref name="config"/>'s evaluation tasks; a corpus that names one
    /// of their sources fails, naming the key.
    /// </summary>
    public static IReadOnlyList<string> CheckHeldOut(RunConfig config)
    {
        var heldOut = config.Eval.Where(EvalRegistry.HeldOutSources.ContainsKey).Select(t => EvalRegistry.HeldOutSources[t]).Distinct().ToList();
        foreach (string source in config.Data.CorpusEntries.Where(heldOut.Contains))
        {
            string task = EvalRegistry.HeldOutSources.First(kv => kv.Value == source && config.Eval.Contains(kv.Key)).Key;
            throw new DistillSharpException($"data.corpus contains '{source}', the held-out domain of eval task {task}: remove it from data.corpus or the task from eval");
        }
        return heldOut;
    }

    /// <summary>Loads (fetching on first use) and builds everything <paramref name="config"/> asks for.</summary>
    public static RunData Load(RunConfig config, TextWriter log)
    {
        var entries = config.Data.CorpusEntries;
        CorpusSources.Validate(entries);
        CheckHeldOut(config);
        // The user's own files first: their errors must not wait for the evaluation data to load.
        var files = entries.Where(CorpusSources.IsFile).ToDictionary(e => e, e => TextSource.Load(e));
        var eval = EvalData.Real(log);
        var names = entries.Where(e => !files.ContainsKey(e)).ToList();
        var options = CorpusSources.Options(names);
        bool wantsWordNet = options.Glosses || options.Examples || options.Lemmas;
        var documents = new List<LmDocument>();
        if (names.Contains(DatasetCatalog.MobyDick.Name)) documents.AddRange(LmTextCorpus.MobyDickFrom(Fetcher.FetchDataset(DatasetCatalog.MobyDick, log)));
        if (names.Contains(DatasetCatalog.StateOfTheUnion.Name)) documents.AddRange(eval.Speeches);
        IReadOnlyList<CorpusItem> items = names.Count == 0 ? []
            : DistillationCorpus.Build(wantsWordNet ? eval.WordNet : null, options.Mails ? eval.Mails : null, options, documents);
        var grouped = CorpusSources.Group(items, names).ToDictionary(g => g.Source, g => g.Texts);
        foreach (var (path, texts) in files) grouped[path] = texts;
        var held = HeldOutKeys(config, eval);
        var sources = entries.Select(e => (e, (IReadOnlyList<string>)grouped[e].Where(t => !held.Contains(DataSplits.Key(t))).ToList())).ToList();
        var mix = config.Data.Weights is { } weights
            ? CorpusMix.Mix(sources, weights.Select(w => w.Weight).ToList(), (ulong)config.Seed)
            : CorpusMix.Concatenate(sources);
        IReadOnlyList<string> corpus = mix.Texts;
        if (config.Data.Augmentation.Synonyms > 0)
        {
            var augmenter = new SynonymAugmenter(eval.WordNet.Training);
            corpus = corpus.Concat(augmenter.Augment(corpus, config.Data.Augmentation.Synonyms, (ulong)config.Seed + 1)).ToList();
        }
        log.WriteLine($"corpus: {corpus.Count:N0} texts from {config.Data.Corpus} ({string.Join(", ", mix.Shares.Select(s => $"{s.Source} {s.Texts:N0}"))})");
        return new RunData(eval, mix, corpus);
    }

    // The evaluation texts of every held-out domain the config evaluates (no corpus text may equal one).
    static HashSet<string> HeldOutKeys(RunConfig config, EvalData eval) =>
        config.Eval.Contains(SotuRetrievalTask.TaskName) ? SotuRetrievalTask.HeldOutKeys(SotuRetrievalTask.Build(eval.Speeches)) : [];
}

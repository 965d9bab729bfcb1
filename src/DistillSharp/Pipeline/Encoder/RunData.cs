using DistillSharp.Config.Encoder;
using DistillSharp.Data;
using DistillSharp.Evaluation;

namespace DistillSharp.Pipeline.Encoder;

/// <summary>
/// The data of a run: the evaluation splits (held out by a fixed seed) and the distillation corpus
/// built from the training side only. <c>data.corpus</c> names the sources joined by '+'
/// (<c>wordnet</c> = glosses, examples and lemma lists; <c>mail</c> = training-mail chunks; or
/// <c>glosses</c>, <c>examples</c>, <c>lemmas</c> one by one), or is a path to the user's own
/// text (one per line), JSONL ("text" field) or CSV ("text" column) file.
/// </summary>
public sealed class RunData
{
    /// <summary>Corpus source names.</summary>
    public static readonly string[] Sources = ["wordnet", "glosses", "examples", "lemmas", "mail"];

    RunData(EvalData eval, IReadOnlyList<string> corpus)
    {
        Eval = eval;
        Corpus = corpus;
    }

    /// <summary>Evaluation data (real WordNet and SpamAssassin, fetched on first use).</summary>
    public EvalData Eval { get; }

    /// <summary>The training texts, in a fixed order.</summary>
    public IReadOnlyList<string> Corpus { get; }

    /// <summary>Loads (fetching on first use) and builds everything <paramref name="config"/> asks for.</summary>
    public static RunData Load(RunConfig config, TextWriter log)
    {
        // The user's own file first: its errors must not wait for the evaluation data to load.
        string spec = config.Data.Corpus;
        IReadOnlyList<string>? own = File.Exists(spec) ? TextSource.Load(spec) : null;
        var eval = EvalData.Real(log);
        IReadOnlyList<string> texts;
        if (own is not null)
        {
            texts = own;
        }
        else
        {
            var parts = spec.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = parts.Where(p => !Sources.Contains(p)).ToList();
            if (parts.Length == 0 || unknown.Count > 0)
                throw new DistillSharpException($"data.corpus '{spec}': unknown source(s) {string.Join(", ", unknown)}; use {string.Join(", ", Sources)} joined by '+', or a path to a .txt/.jsonl/.csv file");
            bool all = parts.Contains("wordnet");
            var options = new CorpusOptions(
                Glosses: all || parts.Contains("glosses"), Examples: all || parts.Contains("examples"),
                Lemmas: all || parts.Contains("lemmas"), Mails: parts.Contains("mail"));
            bool wantsWordNet = options.Glosses || options.Examples || options.Lemmas;
            texts = DistillationCorpus.Build(wantsWordNet ? eval.WordNet : null, options.Mails ? eval.Mails : null, options)
                .Select(i => i.Text).ToList();
        }
        if (config.Data.Augmentation.Synonyms > 0)
        {
            var augmenter = new SynonymAugmenter(eval.WordNet.Training);
            texts = texts.Concat(augmenter.Augment(texts, config.Data.Augmentation.Synonyms, (ulong)config.Seed + 1)).ToList();
        }
        log.WriteLine($"corpus: {texts.Count:N0} texts from {spec}");
        return new RunData(eval, texts);
    }
}

namespace DistillSharp.Data.Labelled;

/// <summary>Where a classification run's labelled data come from and how they are split.</summary>
/// <param name="Source">A built-in dataset name (<see cref="LabelledSources.Builtin"/>) or a .csv/.jsonl path.</param>
/// <param name="TextColumn">A file's text column / JSONL field.</param>
/// <param name="LabelColumn">A file's label column / JSONL field.</param>
/// <param name="Labels">A file's labels in class-id order; null = as they first appear.</param>
/// <param name="DevFraction">Share of each label held out for dev.</param>
/// <param name="TestFraction">Share of each label held out for test.</param>
/// <param name="MaxTrain">Labelled budget: the train part is cut to this many texts (stratified); null = all.</param>
/// <param name="Seed">Split seed.</param>
public sealed record LabelledDataOptions(string Source, string TextColumn = "text", string LabelColumn = "label",
    IReadOnlyList<string>? Labels = null, double DevFraction = 0.1, double TestFraction = 0.1, int? MaxTrain = null,
    ulong Seed = DataSplits.Seed);

/// <summary>The labelled datasets by name (one row each), and loading by name or file.</summary>
public static class LabelledSources
{
    /// <summary>Built-in datasets: real data fetched on first use (messages to the writer).</summary>
    public static readonly IReadOnlyDictionary<string, Func<TextWriter, LabelledDataset>> Builtin =
        new Dictionary<string, Func<TextWriter, LabelledDataset>>(StringComparer.Ordinal)
        {
            [WordNetCategories.Name] = log => WordNetCategories.Build(WordNetDatabase.Load(log)),
            [SpamDataset.Name] = log => SpamDataset.Build(SpamCorpus.Load(log)),
        };

    /// <summary>Loads the dataset <paramref name="options"/> name; an unknown name that is no file lists the built-in ones.</summary>
    public static LabelledDataset Load(LabelledDataOptions options, TextWriter log)
    {
        if (Builtin.TryGetValue(options.Source, out var build))
        {
            if (options.Labels is not null)
                throw new DistillSharpException($"data.labels: the built-in dataset '{options.Source}' has its own labels; labels are for .csv/.jsonl files");
            return build(log);
        }
        if (File.Exists(options.Source)) return LabelledFile.Load(options.Source, options.TextColumn, options.LabelColumn, options.Labels);
        throw new DistillSharpException(
            $"labelled data '{options.Source}': neither a built-in dataset ({string.Join(", ", Builtin.Keys)}) nor an existing .csv/.jsonl file");
    }

    /// <summary>Loads and splits (<see cref="StratifiedSplit"/>).</summary>
    public static LabelledSplit LoadSplit(LabelledDataOptions options, TextWriter log) =>
        StratifiedSplit.Split(Load(options, log), options.DevFraction, options.TestFraction, options.Seed, options.MaxTrain);
}

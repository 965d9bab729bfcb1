using System.Text;
using System.Text.Json;
using DistillSharp.Runtime;

namespace DistillSharp.Data;

/// <summary>One document of language-model text.</summary>
/// <param name="Source">"moby-dick", "sotu" or "wordnet".</param>
/// <param name="Id">Unique within its source: "chapter_12", "1790_george_washington_n", "02086723-n".</param>
/// <param name="Text">The text; paragraphs separated by a blank line.</param>
public sealed record LmDocument(string Source, string Id, string Text);

/// <summary>A document-level split: no held-out document contributes a single character to training.</summary>
/// <param name="Train">Training documents, sorted by (source, id).</param>
/// <param name="HeldOut">Held-out documents, sorted by (source, id).</param>
public sealed record LmCorpusSplit(IReadOnlyList<LmDocument> Train, IReadOnlyList<LmDocument> HeldOut)
{
    /// <summary>The training texts.</summary>
    public IReadOnlyList<string> TrainTexts => Train.Select(d => d.Text).ToList();

    /// <summary>The held-out texts.</summary>
    public IReadOnlyList<string> HeldOutTexts => HeldOut.Select(d => d.Text).ToList();
}

/// <summary>Which sources an <see cref="LmTextCorpus"/> loads and how much it holds out.</summary>
/// <param name="MobyDick">Moby-Dick, one document per chapter (and contents, etymology, extracts, epilogue).</param>
/// <param name="StateOfTheUnion">State of the Union addresses, one document per speech.</param>
/// <param name="WordNet">WordNet glosses and examples, one short document per synset.</param>
/// <param name="HeldOutFraction">Share of each source's documents held out (at least one when the source has two or more).</param>
/// <param name="Seed">Split seed.</param>
public sealed record LmCorpusOptions(bool MobyDick = true, bool StateOfTheUnion = true, bool WordNet = false,
    double HeldOutFraction = 0.05, ulong Seed = DataSplits.Seed);

/// <summary>
/// Real English text for language-model training and distillation: Moby-Dick chapters, State of
/// the Union speeches and, optionally, WordNet glosses — fetched through npm on first use and split
/// into training and held-out documents by a fixed seed at the document level.
/// </summary>
public static class LmTextCorpus
{
    /// <summary>Fetches the selected sources if needed, loads and splits them.</summary>
    public static LmCorpusSplit Load(LmCorpusOptions options, TextWriter log)
    {
        var documents = new List<LmDocument>();
        if (options.MobyDick) documents.AddRange(MobyDickFrom(Fetcher.FetchDataset(DatasetCatalog.MobyDick, log)));
        if (options.StateOfTheUnion) documents.AddRange(StateOfTheUnionFrom(Fetcher.FetchDataset(DatasetCatalog.StateOfTheUnion, log)));
        if (options.WordNet) documents.AddRange(WordNetGlosses(WordNetDatabase.Load(log)));
        if (documents.Count == 0) throw new DistillSharpException("the language-model corpus selects no source; enable moby-dick, sotu or wordnet");
        return Split(documents, options.HeldOutFraction, options.Seed);
    }

    /// <summary>Moby-Dick parts in <c>data/file_list.json</c> order, one document each, paragraphs kept.</summary>
    public static IReadOnlyList<LmDocument> MobyDickFrom(string packageDirectory)
    {
        var dataset = DatasetCatalog.MobyDick;
        byte[] list = DatasetIntegrity.ReadVerified(dataset, packageDirectory, "data/file_list.json");
        DatasetIntegrity.Verify(dataset, packageDirectory, hash: false);
        string[] files = JsonSerializer.Deserialize<string[]>(list)
            ?? throw new DistillSharpException($"{dataset.Name}: data/file_list.json is empty; {DatasetIntegrity.RefetchHint(dataset)}");
        return files.Select(f => new LmDocument(dataset.Name, Path.GetFileNameWithoutExtension(f),
            Paragraphs(ReadPart(dataset, packageDirectory, "data/" + f)))).Where(d => d.Text.Length > 0).ToList();
    }

    /// <summary>Every <c>data/*.txt</c> speech, in file-name (= year) order.</summary>
    public static IReadOnlyList<LmDocument> StateOfTheUnionFrom(string packageDirectory)
    {
        var dataset = DatasetCatalog.StateOfTheUnion;
        DatasetIntegrity.Verify(dataset, packageDirectory, hash: false);
        string dataDir = Path.Combine(packageDirectory, "data");
        var files = Directory.GetFiles(dataDir, "*.txt").OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new DistillSharpException($"{dataset.Name}: no speeches in {dataDir}; {DatasetIntegrity.RefetchHint(dataset)}");
        return files.Select(f => new LmDocument(dataset.Name, Path.GetFileNameWithoutExtension(f),
            Paragraphs(File.ReadAllText(f, Encoding.UTF8)))).Where(d => d.Text.Length > 0).ToList();
    }

    /// <summary>One document per synset with a definition: "lemma, lemma: definition. Example. Example."</summary>
    public static IReadOnlyList<LmDocument> WordNetGlosses(WordNetDatabase database) =>
        database.Synsets.Where(s => s.Words.Count > 0 && s.Definitions.Count > 0)
            .Select(s => new LmDocument("wordnet", s.Id, WhitespaceNormalizer.SingleLine(
                $"{s.LemmaList}: {s.Definition}." + string.Concat(s.Examples.Select(e => " " + Capitalised(e) + ".")))))
            .ToList();

    /// <summary>
    /// Holds out round(fraction × n) documents of each source (at least 1 when it has ≥ 2): the
    /// source's documents sorted by id, shuffled with <see cref="SplitMix64"/>(seed), the first ones
    /// held out. Same documents and seed → same split on every machine and process.
    /// </summary>
    public static LmCorpusSplit Split(IReadOnlyList<LmDocument> documents, double heldOutFraction, ulong seed = DataSplits.Seed)
    {
        if (!(heldOutFraction >= 0 && heldOutFraction < 1))
            throw new DistillSharpException($"held-out fraction {heldOutFraction} must be in [0, 1)");
        var duplicate = documents.GroupBy(d => (d.Source, d.Id)).FirstOrDefault(g => g.Count() > 1);
        if (duplicate != null) throw new DistillSharpException($"document id '{duplicate.Key.Source}/{duplicate.Key.Id}' occurs {duplicate.Count()} times; ids must be unique to split");
        var random = new SplitMix64(seed);
        var heldOut = new HashSet<(string, string)>();
        foreach (var source in documents.Select(d => d.Source).Distinct().OrderBy(s => s, StringComparer.Ordinal))
        {
            var ofSource = documents.Where(d => d.Source == source).OrderBy(d => d.Id, StringComparer.Ordinal).ToList();
            int take = (int)Math.Round(heldOutFraction * ofSource.Count, MidpointRounding.AwayFromZero);
            if (heldOutFraction > 0 && ofSource.Count >= 2) take = Math.Clamp(take, 1, ofSource.Count - 1);
            foreach (var d in random.Shuffled(ofSource).Take(take)) heldOut.Add((d.Source, d.Id));
        }
        var ordered = documents.OrderBy(d => d.Source, StringComparer.Ordinal).ThenBy(d => d.Id, StringComparer.Ordinal).ToList();
        return new LmCorpusSplit(ordered.Where(d => !heldOut.Contains((d.Source, d.Id))).ToList(),
            ordered.Where(d => heldOut.Contains((d.Source, d.Id))).ToList());
    }

    /// <summary>Paragraphs (blank-line separated) each on one line, joined by a blank line.</summary>
    public static string Paragraphs(string text) =>
        string.Join("\n\n", text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(WhitespaceNormalizer.SingleLine).Where(p => p.Length > 0));

    static string ReadPart(NpmDataset dataset, string packageDirectory, string relative)
    {
        string path = Path.Combine(packageDirectory, relative.Replace('/', Path.DirectorySeparatorChar));
        if (!File.Exists(path)) throw new DistillSharpException($"{dataset.Name}: {path} is missing; {DatasetIntegrity.RefetchHint(dataset)}");
        return File.ReadAllText(path, Encoding.UTF8);
    }

    static string Capitalised(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}

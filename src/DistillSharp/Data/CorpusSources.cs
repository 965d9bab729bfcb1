namespace DistillSharp.Data;

/// <summary>
/// The named sources a distillation corpus (<c>data.corpus</c>) can draw from, and which
/// <see cref="CorpusItem"/> kinds each one stands for. Anything else in <c>data.corpus</c> must be a
/// path to the user's own <c>.txt</c>/<c>.jsonl</c>/<c>.csv</c> file (<see cref="TextSource"/>).
/// </summary>
public static class CorpusSources
{
    /// <summary>Source name → the item kinds (prefix of <see cref="CorpusItem.Source"/> before ':') it selects.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Kinds = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["wordnet"] = ["gloss", "example", "lemmas"],
        ["glosses"] = ["gloss"],
        ["examples"] = ["example"],
        ["lemmas"] = ["lemmas"],
        ["mail"] = ["mail"],
        [DatasetCatalog.MobyDick.Name] = [DatasetCatalog.MobyDick.Name],
        [DatasetCatalog.StateOfTheUnion.Name] = [DatasetCatalog.StateOfTheUnion.Name],
    };

    /// <summary>The source names, in table order.</summary>
    public static IReadOnlyList<string> Names => [.. Kinds.Keys];

    /// <summary>Whether a <c>data.corpus</c> entry means a file: it exists, contains '/' or ends with a known extension.</summary>
    public static bool IsFile(string entry) =>
        !Kinds.ContainsKey(entry) && (File.Exists(entry) || entry.Contains('/')
            || TextSource.Extensions.Any(e => entry.EndsWith(e, StringComparison.OrdinalIgnoreCase)));

    /// <summary>The entries of a '+'-joined <c>data.corpus</c> string (a path that exists as given is one entry, even with '+' in it).</summary>
    public static IReadOnlyList<string> Split(string spec) =>
        File.Exists(spec) ? [spec] : spec.Split('+', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>
    /// Checks the entries of <c>data.corpus</c>: each a known source or a file, none twice, no two
    /// sources that overlap (<c>wordnet</c> already holds <c>glosses</c>). Errors name the entry.
    /// </summary>
    public static void Validate(IReadOnlyList<string> entries)
    {
        if (entries.Count == 0) throw new DistillSharpException($"data.corpus names no source; use {string.Join(", ", Names)} or a path to a .txt/.jsonl/.csv file");
        var twice = entries.GroupBy(e => e, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (twice != null) throw new DistillSharpException($"data.corpus names '{twice.Key}' twice");
        var taken = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in entries)
        {
            if (IsFile(entry)) continue;
            if (!Kinds.TryGetValue(entry, out var kinds))
                throw new DistillSharpException($"data.corpus: unknown source '{entry}'; known: {string.Join(", ", Names)}, or a path to a .txt/.jsonl/.csv file");
            foreach (string kind in kinds)
                if (!taken.TryAdd(kind, entry))
                    throw new DistillSharpException($"data.corpus: '{entry}' overlaps '{taken[kind]}' (both hold {kind} texts); name each text once");
        }
    }

    /// <summary>What <see cref="DistillationCorpus.Build"/> must include for the named sources.</summary>
    public static CorpusOptions Options(IReadOnlyCollection<string> names)
    {
        var kinds = names.Where(Kinds.ContainsKey).SelectMany(n => Kinds[n]).ToHashSet(StringComparer.Ordinal);
        return new CorpusOptions(Glosses: kinds.Contains("gloss"), Examples: kinds.Contains("example"), Lemmas: kinds.Contains("lemmas"), Mails: kinds.Contains("mail"));
    }

    /// <summary>The texts of each named source, in <paramref name="names"/> order, each in corpus order.</summary>
    public static IReadOnlyList<(string Source, IReadOnlyList<string> Texts)> Group(IReadOnlyList<CorpusItem> items, IReadOnlyList<string> names)
    {
        return names.Select(n => (n, (IReadOnlyList<string>)items.Where(i => Kinds[n].Contains(KindOf(i))).Select(i => i.Text).ToList())).ToList();
    }

    static string KindOf(CorpusItem item) => item.Source[..Math.Max(0, item.Source.IndexOf(':'))];
}

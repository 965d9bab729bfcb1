using System.Security.Cryptography;
using System.Text;

namespace DistillSharp;

/// <summary>
/// The one content-hash scheme of every cache that is keyed by what its contents depend on (teacher
/// outputs, fine-tuned classifier teachers, evaluation results): SHA-256 over a version tag and then
/// each part as UTF-8 followed by a zero byte (raw bytes are appended as they are), named by the
/// first 24 lower-case hex digits. Any changed part gives a new key, so a stale entry is never read.
/// </summary>
public sealed class ContentKey : IDisposable
{
    readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>Starts an untagged hash of raw bytes (<see cref="AddBytes"/>), as a weights identity is.</summary>
    public ContentKey() { }

    /// <summary>Starts a key with its scheme's version tag (e.g. <c>distillsharp-teacher-cache-v2</c>).</summary>
    public ContentKey(string tag) => Add(tag);

    /// <summary>
    /// The key of a written model: the file <paramref name="path"/>, or every file of the folder (name, length and
    /// bytes, in ordinal name order), so equal keys mean the same files.
    /// </summary>
    public static string OfFiles(string path)
    {
        using var key = new ContentKey("distillsharp-model-files-v1");
        var files = File.Exists(path) ? [path] : Directory.GetFiles(path).Order(StringComparer.Ordinal).ToArray();
        var buffer = new byte[1 << 20];
        foreach (var file in files)
        {
            using var stream = File.OpenRead(file);
            key.Add($"{Path.GetFileName(file)} {stream.Length}");
            for (int n; (n = stream.Read(buffer)) > 0;) key.AddBytes(buffer.AsSpan(0, n));
        }
        return key.Key();
    }

    /// <summary>Adds one text part (UTF-8, then a zero byte).</summary>
    public ContentKey Add(string part)
    {
        _sha.AppendData(Encoding.UTF8.GetBytes(part));
        _sha.AppendData([0]);
        return this;
    }

    /// <summary>Adds raw bytes (a tensor's contents), without a separator.</summary>
    public ContentKey AddBytes(ReadOnlySpan<byte> bytes)
    {
        _sha.AppendData(bytes);
        return this;
    }

    /// <summary>The full SHA-256 as upper-case hex (a model's weights identity).</summary>
    public string FullHex() => Convert.ToHexString(_sha.GetHashAndReset());

    /// <summary>The key: the first 24 hex digits of the SHA-256, lower case (a cache folder's name).</summary>
    public string Key() => Convert.ToHexStringLower(_sha.GetHashAndReset())[..24];

    /// <inheritdoc/>
    public void Dispose() => _sha.Dispose();
}

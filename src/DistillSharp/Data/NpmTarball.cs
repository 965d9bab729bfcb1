using System.Formats.Tar;
using System.IO.Compression;

namespace DistillSharp.Data;

/// <summary>
/// Unpacks an npm package tarball (<c>.tgz</c>, every entry under <c>package/</c>) into a folder,
/// without the leading <c>package/</c>. Only regular files and folders are written; an entry that
/// would land outside the target folder is refused.
/// </summary>
public static class NpmTarball
{
    /// <summary>Extracts <paramref name="tgzPath"/> into <paramref name="targetDirectory"/>; returns the file count.</summary>
    public static int Extract(string tgzPath, string targetDirectory)
    {
        if (!File.Exists(tgzPath)) throw new DistillSharpException($"npm tarball {tgzPath} does not exist");
        string root = Path.GetFullPath(targetDirectory);
        Directory.CreateDirectory(root);
        int files = 0;
        using var file = File.OpenRead(tgzPath);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new TarReader(gzip);
        try
        {
            while (reader.GetNextEntry() is { } entry)
            {
                string name = entry.Name.Replace('\\', '/');
                int slash = name.IndexOf('/');
                string relative = slash >= 0 ? name[(slash + 1)..] : "";
                if (relative.Length == 0) continue;
                string destination = Path.GetFullPath(Path.Combine(root, relative));
                if (!destination.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                    throw new DistillSharpException($"npm tarball {tgzPath} has an entry outside the package: '{entry.Name}'");
                if (entry.EntryType == TarEntryType.Directory)
                {
                    Directory.CreateDirectory(destination);
                }
                else if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
                    using var output = File.Create(destination);
                    entry.DataStream?.CopyTo(output);
                    files++;
                }
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new DistillSharpException($"npm tarball {tgzPath} is damaged: {e.Message}", e);
        }
        return files;
    }
}

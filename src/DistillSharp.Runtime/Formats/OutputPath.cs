namespace DistillSharp.Runtime.Formats;

/// <summary>
/// Checks an output folder or file before any expensive work, so that a run never computes for
/// minutes and then fails to write: the path must not be (or lie under) a regular file or a device,
/// must not be in a system pseudo-file system (/proc, /sys, /dev), and its folder must be creatable
/// and writable (a probe file is written and removed). <c>what</c> names the argument in errors
/// ("--out", "output").
/// </summary>
public static class OutputPath
{
    static readonly string[] SystemRoots = ["/proc", "/sys", "/dev"];

    /// <summary>Checks (and creates) the output folder <paramref name="path"/>; returns its full path.</summary>
    public static string Folder(string path, string what)
    {
        string full = Refuse(path, what);
        if (System.IO.File.Exists(full)) throw new DistillSharpException($"{what} {path} is a file, not a folder");
        CreateAndProbe(full, path, what);
        return full;
    }

    /// <summary>Checks the output file <paramref name="path"/> (it may exist and is replaced; its folder is created); returns its full path.</summary>
    public static string File(string path, string what)
    {
        string full = Refuse(path, what);
        if (Directory.Exists(full)) throw new DistillSharpException($"{what} {path} is a folder; give a file name");
        CreateAndProbe(Path.GetDirectoryName(full)!, path, what);
        return full;
    }

    // Checks shared by folders and files; the full path.
    static string Refuse(string path, string what)
    {
        if (string.IsNullOrWhiteSpace(path)) throw new DistillSharpException($"{what} is empty; give a folder");
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new DistillSharpException($"{what} '{path}' is not a usable path ({e.Message})");
        }
        foreach (string root in SystemRoots)
            if (full == root || full.StartsWith(root + "/", StringComparison.Ordinal))
                throw new DistillSharpException($"{what} {path} is in {root}, a system folder that cannot hold output");
        for (string? dir = Path.GetDirectoryName(full); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            if (Directory.Exists(dir)) break;
            if (System.IO.File.Exists(dir)) throw new DistillSharpException($"{what} {path} lies under {dir}, which is a file, not a folder");
        }
        return full;
    }

    static void CreateAndProbe(string folder, string path, string what)
    {
        string probe = Path.Combine(folder, $".distill-write-test-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(folder);
            using (var s = new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose))
            {
                s.WriteByte(0);
                s.Flush(flushToDisk: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DistillSharpException($"{what} {path} is not writable ({e.Message})");
        }
    }
}

using System.Text;

namespace DistillSharp.Runtime.Formats;

/// <summary>
/// Reads input files under one discipline: a file is stat-ed before it is opened and must be a
/// regular file of a stated maximum size (a device, pipe or /proc file reports size 0 and is refused
/// without being read, so a symlink to /dev/zero fails at once); exactly the stated number of bytes is
/// read, never "until the end"; text must be UTF-8 without NUL bytes. Every error names the file.
/// </summary>
public static class InputFile
{
    /// <summary>Size limit of JSON, YAML and vocabulary files.</summary>
    public const long ConfigBytes = 64L << 20;
    /// <summary>Size limit of a text corpus file.</summary>
    public const long CorpusBytes = 1L << 30;
    /// <summary>Size limit of a protobuf (ONNX) file: protobuf cannot hold more.</summary>
    public const long ProtobufBytes = int.MaxValue;

    static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Checks that <paramref name="path"/> is a non-empty regular file of at most <paramref name="maxBytes"/>
    /// bytes and returns its length; <paramref name="what"/> names the expected kind ("safetensors", "config.json").
    /// </summary>
    public static long Check(string path, long maxBytes, string what)
    {
        if (Directory.Exists(path)) throw new DistillSharpException($"{path}: is a folder, expected a {what} file");
        var info = new FileInfo(path);
        if (info.LinkTarget is { } link)
        {
            // A link's own size is its target's name; what is read is the target.
            info = info.ResolveLinkTarget(returnFinalTarget: true) is { Exists: true } target ? new FileInfo(target.FullName)
                : throw new DistillSharpException($"{path}: a link to '{link}', which does not exist");
            if (Directory.Exists(info.FullName)) throw new DistillSharpException($"{path}: a link to the folder {info.FullName}, expected a {what} file");
        }
        if (!info.Exists) throw new DistillSharpException($"{path}: file not found");
        long length = info.Length;
        if (length == 0) throw new DistillSharpException($"{path}: is empty or not a regular file (a device, pipe or /proc file); expected a {what} file");
        if (length > maxBytes)
            throw new DistillSharpException($"{path}: {length:N0} bytes is more than the {maxBytes:N0}-byte limit of a {what} file");
        return length;
    }

    /// <summary>The bytes of a checked file (see <see cref="Check"/>).</summary>
    public static byte[] ReadBytes(string path, long maxBytes, string what)
    {
        long length = Check(path, maxBytes, what);
        using var stream = Open(path);
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        ReadExactly(stream, bytes, 0, path);
        return bytes;
    }

    /// <summary>The UTF-8 text of a checked file (a byte-order mark is dropped); invalid UTF-8 and NUL bytes are errors naming the byte and line.</summary>
    public static string ReadText(string path, long maxBytes, string what) => DecodeText(ReadBytes(path, maxBytes, what), path);

    /// <summary>A checked JSON file that must hold one object (see <see cref="JsonKeys.ParseObject"/>).</summary>
    public static System.Text.Json.Nodes.JsonObject ReadJsonObject(string path, string what = "JSON") =>
        JsonKeys.ParseObject(ReadText(path, ConfigBytes, what), path);

    /// <summary>Decodes UTF-8 strictly; <paramref name="source"/> names the bytes in errors.</summary>
    public static string DecodeText(byte[] bytes, string source)
    {
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0)
            throw new DistillSharpException($"{source}: NUL byte at byte {nul:N0} (line {LineAt(bytes, nul)}): a binary file, not text");
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        try
        {
            return StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException e)
        {
            int at = start + Math.Max(0, e.Index);
            throw new DistillSharpException(
                $"{source}: not valid UTF-8 at byte {at:N0} (line {LineAt(bytes, at)}); convert it to UTF-8 (e.g. iconv -f latin1 -t utf-8)");
        }
    }

    /// <summary>Opens a checked file for reading.</summary>
    public static FileStream Open(string path) => new(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.RandomAccess);

    /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/>; a short read means the file shrank while being read.</summary>
    public static void ReadExactly(FileStream stream, Span<byte> buffer, long offset, string path)
    {
        int done = 0;
        while (done < buffer.Length)
        {
            int n = RandomAccess.Read(stream.SafeFileHandle, buffer[done..], offset + done);
            if (n == 0) throw new DistillSharpException($"{path}: ended at byte {offset + done:N0} while {offset + buffer.Length:N0} were expected (truncated while reading?)");
            done += n;
        }
    }

    static int LineAt(byte[] bytes, int offset)
    {
        int line = 1;
        for (int i = 0; i < offset && i < bytes.Length; i++)
            if (bytes[i] == (byte)'\n') line++;
        return line;
    }
}

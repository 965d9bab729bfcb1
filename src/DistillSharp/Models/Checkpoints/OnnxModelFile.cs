using Google.Protobuf;
using Onnx;
using DistillSharp.Runtime.Formats;

namespace DistillSharp.Models.Checkpoints;

/// <summary>
/// Reads ONNX model files under the input-file discipline: size-capped (protobuf holds at most
/// 2 GiB, which is why larger models keep their weights in external files), parse errors as one
/// line, and every tensor stored as external data checked before anything reads it: its location
/// must be a relative path to a file inside the model's folder (after following links), and
/// offset + length must lie within that file. Both our importer and ONNX Runtime then read only
/// files that passed.
/// </summary>
public static class OnnxModelFile
{
    /// <summary>Parses and checks the model at <paramref name="path"/>.</summary>
    public static ModelProto Read(string path)
    {
        byte[] bytes = InputFile.ReadBytes(path, InputFile.ProtobufBytes, "ONNX");
        var model = Parse(bytes, path);
        CheckExternalData(model, Folder(path), path);
        return model;
    }

    /// <summary>Parses ONNX bytes; <paramref name="source"/> names them in errors.</summary>
    public static ModelProto Parse(byte[] bytes, string source)
    {
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new DistillSharpException($"{source}: not an ONNX model ({e.Message})");
        }
        if (model.Graph is null || model.Graph.Node.Count == 0)
            throw new DistillSharpException($"{source}: not an ONNX model (no graph; a truncated or foreign file?)");
        return model;
    }

    /// <summary>Bytes of a model file plus the external data files it names.</summary>
    public static long Bytes(string path)
    {
        var model = Read(path);
        string folder = Folder(path);
        return new FileInfo(path).Length + model.Graph.Initializer.Where(IsExternal)
            .Select(t => Locate(t, folder, path).File).Distinct().Sum(f => new FileInfo(f).Length);
    }

    /// <summary>The folder external data paths are relative to.</summary>
    public static string Folder(string path) => Path.GetDirectoryName(Path.GetFullPath(path))!;

    /// <summary>True when tensor <paramref name="t"/> keeps its bytes in an external file.</summary>
    public static bool IsExternal(TensorProto t) => t.DataLocation == TensorProto.Types.DataLocation.External;

    /// <summary>Checks every external-data reference of <paramref name="model"/> against <paramref name="folder"/>.</summary>
    public static void CheckExternalData(ModelProto model, string? folder, string source)
    {
        foreach (var t in model.Graph.Initializer.Where(IsExternal)) Locate(t, folder, source);
    }

    /// <summary>The bytes of an external tensor (checked as in <see cref="CheckExternalData"/>).</summary>
    public static byte[] ReadExternal(TensorProto t, string? folder, string source)
    {
        var (file, offset, length) = Locate(t, folder, source);
        if (length > Array.MaxLength) throw new DistillSharpException($"{source}: tensor '{t.Name}' has {length:N0} bytes of external data, more than one array holds");
        var bytes = new byte[length];
        using var stream = InputFile.Open(file);
        InputFile.ReadExactly(stream, bytes, offset, file);
        return bytes;
    }

    // (file, offset, length) of an external tensor; length defaults to the rest of the file.
    static (string File, long Offset, long Length) Locate(TensorProto t, string? folder, string source)
    {
        string where = $"{source}: tensor '{t.Name}'";
        if (folder is null) throw new DistillSharpException($"{where} keeps its data in an external file, which a model read from memory cannot have");
        var entries = t.ExternalData.ToDictionary(e => e.Key, e => e.Value);
        if (!entries.TryGetValue("location", out var location) || location.Length == 0)
            throw new DistillSharpException($"{where}: external data without a location");
        string root = RealPath(folder);
        string file = Path.GetFullPath(Path.Combine(folder, location));
        string real = RealPath(file);
        if (Path.IsPathRooted(location) || !IsInside(real, root) || !IsInside(file, Path.GetFullPath(folder)))
            throw new DistillSharpException($"{where}: external data location '{location}' leaves the model's folder {folder}; only files inside it are read");
        long size = InputFile.Check(file, long.MaxValue, "ONNX external data");
        long offset = Number(entries, "offset", 0, where), length = Number(entries, "length", size - offset, where);
        if (offset < 0 || length < 0 || offset > size || length > size - offset)
            throw new DistillSharpException($"{where}: external data offset {offset:N0} + length {length:N0} lie outside '{location}' ({size:N0} bytes)");
        return (file, offset, length);
    }

    static long Number(Dictionary<string, string> entries, string key, long fallback, string where)
    {
        if (!entries.TryGetValue(key, out var text)) return fallback;
        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long v) ? v
            : throw new DistillSharpException($"{where}: external data {key} '{text}' is not a byte count");
    }

    // The path with every symbolic link on it followed, component by component.
    static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        foreach (string part in full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            var info = new FileInfo(current);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target) current = target.FullName;
        }
        return current;
    }

    static bool IsInside(string path, string folder) =>
        path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}

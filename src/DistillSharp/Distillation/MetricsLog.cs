using System.Text.Json;

namespace DistillSharp.Distillation;

/// <summary>
/// metrics.jsonl: one JSON object per line, flushed per line so a killed run keeps what it logged.
/// On resume, lines past the checkpoint's step are dropped first, so the file reads as one clean run.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    readonly StreamWriter _writer;

    /// <summary>Opens <paramref name="path"/> for appending; drops lines with "step" &gt; <paramref name="keepThroughStep"/> when given.</summary>
    public MetricsLog(string path, long? keepThroughStep = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (keepThroughStep is long keep && File.Exists(path))
        {
            var kept = File.ReadAllLines(path).Where(line => Keeps(line, keep)).ToArray();
            File.WriteAllLines(path, kept);
        }
        _writer = new StreamWriter(path, append: true) { AutoFlush = true };
    }

    /// <summary>Appends one record; non-finite numbers (a diverged loss) are written as null, which JSON can hold.</summary>
    public void Write(IReadOnlyDictionary<string, object?> record) =>
        _writer.WriteLine(JsonSerializer.Serialize(record.ToDictionary(kv => kv.Key,
            kv => kv.Value is double d && !double.IsFinite(d) || kv.Value is float f && !float.IsFinite(f) ? null : kv.Value)));

    /// <summary>Reads every record of a metrics file.</summary>
    public static List<Dictionary<string, JsonElement>> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0)
            .Select(l => JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(l)!).ToList();

    static bool Keeps(string line, long keepThroughStep)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return !doc.RootElement.TryGetProperty("step", out var s) || !s.TryGetInt64(out long step) || step <= keepThroughStep;
        }
        catch (JsonException)
        {
            return false; // a torn last line from a kill
        }
    }

    public void Dispose() => _writer.Dispose();
}

using System.Text.Json;

namespace DistillSharp.Reports;

/// <summary>A stage's stretch of global steps: it ran steps StartStep+1 … EndStep.</summary>
public sealed record StageSpan(string Name, long StartStep, long EndStep);

/// <summary>
/// The records of one metrics.jsonl (written by <c>Distiller</c> through <c>MetricsLog</c>), read
/// for plotting: keys <c>step</c>, <c>stage</c>, <c>stage_step</c>, <c>loss</c>, <c>lr</c>,
/// <c>grad_norm</c>, <c>loss/&lt;term&gt;</c> and <c>act/&lt;layer&gt;/mean|std|absmax</c>.
/// Unlike <c>MetricsLog.Read</c> this skips torn or malformed lines (a killed run leaves one) and counts them.
/// </summary>
public sealed class MetricsTable
{
    readonly List<Dictionary<string, JsonElement>> _records;

    MetricsTable(string path, List<Dictionary<string, JsonElement>> records, int badLines)
    {
        Path = path;
        _records = records;
        BadLines = badLines;
        Keys = records.SelectMany(r => r.Keys).Distinct().ToList();
    }

    /// <summary>The file the records came from.</summary>
    public string Path { get; }

    /// <summary>Lines that were not a JSON object with a numeric "step" and were skipped.</summary>
    public int BadLines { get; }

    /// <summary>Number of records kept.</summary>
    public int Count => _records.Count;

    /// <summary>Reads a metrics file; null when it does not exist.</summary>
    public static MetricsTable? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        var records = new List<Dictionary<string, JsonElement>>();
        int bad = 0;
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            var record = ParseLine(line);
            if (record is null) bad++;
            else records.Add(record);
        }
        return new MetricsTable(path, records, bad);
    }

    /// <summary>Every key seen, in the order first seen.</summary>
    public IReadOnlyList<string> Keys { get; }

    /// <summary>
    /// The <c>loss/&lt;term&gt;</c> keys, in the order first seen. Finer breakdowns a term logs
    /// (<c>loss/hidden_mse/s1-t2</c>, one per layer pair) are not terms and are left out.
    /// </summary>
    public IReadOnlyList<string> LossTermKeys => Keys.Where(k => k.StartsWith("loss/", StringComparison.Ordinal) && k.Count(c => c == '/') == 1).ToList();

    /// <summary>Layers that have activation statistics (<c>act/&lt;layer&gt;/…</c>), ascending.</summary>
    public IReadOnlyList<int> ActivationLayers => Keys
        .Select(k => k.Split('/'))
        .Where(p => p.Length == 3 && p[0] == "act" && int.TryParse(p[1], out _))
        .Select(p => int.Parse(p[1])).Distinct().Order().ToList();

    /// <summary>(step, value) of every record whose <paramref name="key"/> holds a finite number; nulls (non-finite losses) are left out.</summary>
    public (double[] Steps, double[] Values) Series(string key)
    {
        var steps = new List<double>();
        var values = new List<double>();
        foreach (var r in _records)
        {
            if (r.TryGetValue(key, out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out double v) && double.IsFinite(v))
            {
                steps.Add(Step(r));
                values.Add(v);
            }
        }
        return (steps.ToArray(), values.ToArray());
    }

    /// <summary>The stages in the order they ran; a new span starts when the name changes or stage_step restarts.</summary>
    public IReadOnlyList<StageSpan> Stages()
    {
        var spans = new List<StageSpan>();
        long previousStageStep = 0;
        foreach (var r in _records)
        {
            string name = r.TryGetValue("stage", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "";
            long step = Step(r);
            long stageStep = r.TryGetValue("stage_step", out var ss) && ss.TryGetInt64(out long v) ? v : step;
            bool restart = spans.Count == 0 || spans[^1].Name != name || stageStep < previousStageStep;
            if (restart) spans.Add(new StageSpan(name, step - stageStep, step));
            else spans[^1] = spans[^1] with { EndStep = step };
            previousStageStep = stageStep;
        }
        return spans;
    }

    /// <summary>The last finite value of <paramref name="key"/>, or null.</summary>
    public double? Last(string key)
    {
        var (_, values) = Series(key);
        return values.Length > 0 ? values[^1] : null;
    }

    static long Step(Dictionary<string, JsonElement> record) => record["step"].GetInt64();

    static Dictionary<string, JsonElement>? ParseLine(string line)
    {
        try
        {
            var record = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line);
            return record != null && record.TryGetValue("step", out var s) && s.ValueKind == JsonValueKind.Number && s.TryGetInt64(out _)
                ? record : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

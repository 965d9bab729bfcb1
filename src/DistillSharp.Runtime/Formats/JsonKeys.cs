using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Runtime.Formats;

/// <summary>Typed reads of optional config.json keys; a value of the wrong kind is an error naming the key and value.</summary>
public static class JsonKeys
{
    public static int? Int(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.TryGetValue(out long l) && l is >= int.MinValue and <= int.MaxValue) return (int)l;
        if (n is JsonValue d && d.TryGetValue(out double x) && x == Math.Floor(x) && Math.Abs(x) < int.MaxValue) return (int)x;
        throw Bad(key, n, "an integer", path);
    }

    public static double? Double(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.TryGetValue(out double x)) return x;
        throw Bad(key, n, "a number", path);
    }

    public static bool? Bool(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.TryGetValue(out bool b)) return b;
        throw Bad(key, n, "true or false", path);
    }

    public static string? String(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.TryGetValue(out string? s)) return s;
        throw Bad(key, n, "a string", path);
    }

    /// <summary>An int or a list of ints (HF allows both for eos_token_id).</summary>
    public static int[]? IntList(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonArray a)
        {
            var list = new int[a.Count];
            for (int i = 0; i < a.Count; i++)
                list[i] = a[i] is JsonValue v && v.TryGetValue(out long l) ? (int)l : throw Bad(key, n, "an integer or a list of integers", path);
            return list;
        }
        return [Int(o, key, path)!.Value];
    }

    public static JsonObject ParseObject(string json, string path)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new DistillSharpException($"{path}: not a JSON object");
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"{path}: not valid JSON ({e.Message})");
        }
    }

    static DistillSharpException Bad(string key, JsonNode n, string expected, string path) =>
        new($"{path}: {key} must be {expected}, got {n.ToJsonString()}");
}

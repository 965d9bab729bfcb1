using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Runtime.Formats;

/// <summary>Typed reads of optional config.json keys; a value of the wrong kind is an error naming the key and value.</summary>
public static class JsonKeys
{
    public static int? Int(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        return ToInt(n, key, path);
    }

    // An integral JSON number within int's range.
    static int ToInt(JsonNode n, string key, string path)
    {
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double x) && x == Math.Floor(x))
        {
            if (x is >= int.MinValue and <= int.MaxValue) return (int)x;
            throw new DistillSharpException($"{path}: {key} {n.ToJsonString()} is out of range (at most {int.MaxValue:N0})");
        }
        throw Bad(key, n, "an integer", path);
    }

    public static double? Double(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double x)) return x;
        throw Bad(key, n, "a number", path);
    }

    public static bool? Bool(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return v.GetValue<bool>();
        throw Bad(key, n, "true or false", path);
    }

    public static string? String(JsonObject o, string key, string path)
    {
        if (!o.TryGetPropertyValue(key, out var n) || n is null) return null;
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.String) return v.GetValue<string>();
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
                list[i] = a[i] is JsonNode item ? ToInt(item, key, path) : throw Bad(key, n, "an integer or a list of integers", path);
            return list;
        }
        return [Int(o, key, path)!.Value];
    }

    public static JsonObject ParseObject(string json, string path)
    {
        try
        {
            var node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
            if (node is JsonObject o) _ = o.Count; // materialise now, so that duplicate keys fail here
            return node as JsonObject ?? throw new DistillSharpException($"{path}: not a JSON object (it holds {(node is null ? "null" : "a JSON " + node.GetValueKind().ToString().ToLowerInvariant())})");
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new DistillSharpException($"{path}: not valid JSON ({e.Message})");
        }
    }

    static DistillSharpException Bad(string key, JsonNode n, string expected, string path) =>
        new($"{path}: {key} must be {expected}, got {n.ToJsonString()}");
}

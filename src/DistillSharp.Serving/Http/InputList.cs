using System.Text.Json;

namespace DistillSharp.Serving.Http;

/// <summary>
/// The inputs of an embedding or classification request as sent: texts, or token-id sequences
/// (the model's input as given, special tokens included). JSON shapes: a string, an array of
/// strings, an array of integers (one sequence) or an array of integer arrays.
/// </summary>
public sealed record InputList(IReadOnlyList<string>? Texts, IReadOnlyList<int[]>? Ids, bool Single)
{
    /// <summary>Number of inputs.</summary>
    public int Count => Texts?.Count ?? Ids!.Count;

    /// <summary>Reads <paramref name="e"/> (field <paramref name="field"/>, for messages); anything else is a 422.</summary>
    public static InputList Parse(JsonElement e, string field)
    {
        switch (e.ValueKind)
        {
            case JsonValueKind.Undefined or JsonValueKind.Null:
                throw ServingException.Invalid($"'{field}' is required");
            case JsonValueKind.String:
                return new InputList([ServingJson.Text(e)], null, Single: true);
            case JsonValueKind.Array:
                break;
            default:
                throw ServingException.Invalid($"'{field}' must be a string, an array of strings, an array of token ids or an array of token-id arrays, got {Kind(e)}");
        }
        int n = e.GetArrayLength();
        if (n == 0) throw ServingException.Invalid($"'{field}' is an empty array");
        var first = e[0];
        switch (first.ValueKind)
        {
            case JsonValueKind.String:
                return new InputList(e.EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.String ? ServingJson.Text(x)
                    : throw ServingException.Invalid($"'{field}[{i}]' must be a string like '{field}[0]', got {Kind(x)}")).ToList(), null, Single: false);
            case JsonValueKind.Number:
                return new InputList(null, [ReadIds(e, field)], Single: true);
            case JsonValueKind.Array:
                return new InputList(null, e.EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.Array ? ReadIds(x, $"{field}[{i}]")
                    : throw ServingException.Invalid($"'{field}[{i}]' must be an array of token ids like '{field}[0]', got {Kind(x)}")).ToList(), Single: false);
            default:
                throw ServingException.Invalid($"'{field}[0]' must be a string, a token id or an array of token ids, got {Kind(first)}");
        }
    }

    static int[] ReadIds(JsonElement array, string field)
    {
        var ids = new int[array.GetArrayLength()];
        int i = 0;
        foreach (var x in array.EnumerateArray())
        {
            if (x.ValueKind != JsonValueKind.Number || !x.TryGetInt32(out ids[i]))
                throw ServingException.Invalid($"'{field}[{i}]' must be an integer token id, got {(x.ValueKind == JsonValueKind.Number ? x.GetRawText() : Kind(x))}");
            i++;
        }
        return ids;
    }

    static string Kind(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

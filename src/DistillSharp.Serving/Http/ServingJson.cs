using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace DistillSharp.Serving.Http;

/// <summary>JSON of the wire formats (snake_case, strict numbers, nulls left out) and body reading with 422 on bad JSON.</summary>
public static class ServingJson
{
    /// <summary>Options of every request and response body.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.Strict,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        AllowTrailingCommas = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,   // readable messages (' not \u0027); bodies are JSON, not HTML
    };

    /// <summary>Reads the body as <typeparamref name="T"/>; malformed JSON or a wrongly typed field is a 422 naming the path.</summary>
    public static async Task<T> ReadAsync<T>(HttpRequest request) where T : class
    {
        // The body is bounded by Kestrel's MaxRequestBodySize (413 past it); its strings are decoded lazily, so
        // the bytes are checked as UTF-8 once here rather than failing at the first GetString.
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, request.HttpContext.RequestAborted).ConfigureAwait(false);
        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (!System.Text.Unicode.Utf8.IsValid(bytes.Span)) throw ServingException.Invalid("the body is not valid UTF-8");
        try
        {
            return JsonSerializer.Deserialize<T>(bytes.Span, Options)
                ?? throw ServingException.Invalid("the body must be a JSON object, got null");
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            throw ServingException.Invalid($"the body is not valid JSON for this endpoint{where}: {FirstSentence(e.Message)}");
        }
    }

    /// <summary>A JSON string's text; an escaped lone surrogate (<c>"\\ud800"</c>) is a 422, not a server error.</summary>
    public static string Text(JsonElement e)
    {
        try
        {
            return e.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw ServingException.Invalid($"the string {Clip(e.GetRawText())} is not valid text (an unpaired surrogate escape?)");
        }
    }

    static string Clip(string raw) => raw.Length > 40 ? raw[..40] + "…\"" : raw;

    static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>A JSON response with the wire options.</summary>
    public static IResult Json(object value, int status = 200) => Results.Json(value, Options, statusCode: status);
}

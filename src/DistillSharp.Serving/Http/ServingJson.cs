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
        try
        {
            return await JsonSerializer.DeserializeAsync<T>(request.Body, Options, request.HttpContext.RequestAborted).ConfigureAwait(false)
                ?? throw ServingException.Invalid("the body must be a JSON object, got null");
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path}";
            throw ServingException.Invalid($"the body is not valid JSON for this endpoint{where}: {FirstSentence(e.Message)}");
        }
    }

    static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    /// <summary>A JSON response with the wire options.</summary>
    public static IResult Json(object value, int status = 200) => Results.Json(value, Options, statusCode: status);
}

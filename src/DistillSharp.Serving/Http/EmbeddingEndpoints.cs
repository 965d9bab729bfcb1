using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace DistillSharp.Serving.Http;

/// <summary>Body of <c>POST /v1/embeddings</c> (OpenAI).</summary>
public sealed record OpenAiEmbeddingRequest
{
    /// <summary>A string, strings, token ids or token-id arrays.</summary>
    public JsonElement Input { get; init; }
    /// <summary>Ignored (the server has one model); echoed back when given.</summary>
    public string? Model { get; init; }
    /// <summary><c>float</c> (default) or <c>base64</c> (little-endian float32 bytes).</summary>
    public string? EncodingFormat { get; init; }
    /// <summary>Keep the first N values, then re-normalise.</summary>
    public int? Dimensions { get; init; }
    /// <summary>Ignored.</summary>
    public string? User { get; init; }
}

/// <summary>One vector of an OpenAI embeddings response; <see cref="Embedding"/> is a float array or a base64 string.</summary>
public sealed record OpenAiEmbedding(string Object, object Embedding, int Index);
/// <summary>Token counts of a response.</summary>
public sealed record OpenAiEmbeddingUsage(int PromptTokens, int TotalTokens);
/// <summary>Response of <c>POST /v1/embeddings</c>.</summary>
public sealed record OpenAiEmbeddingResponse(string Object, IReadOnlyList<OpenAiEmbedding> Data, string Model, OpenAiEmbeddingUsage Usage);

/// <summary>Body of TEI's <c>POST /embed</c>.</summary>
public sealed record TeiEmbedRequest
{
    /// <summary>A string, strings, token ids or token-id arrays.</summary>
    public JsonElement Inputs { get; init; }
    /// <summary>Cut inputs longer than the model's maximum instead of answering 413.</summary>
    public bool Truncate { get; init; }
    /// <summary>Only <c>right</c> (the default) is supported.</summary>
    public string? TruncationDirection { get; init; }
    /// <summary>L2-normalise (default true).</summary>
    public bool Normalize { get; init; } = true;
    /// <summary>Keep the first N values (normalised after the cut when <see cref="Normalize"/>).</summary>
    public int? Dimensions { get; init; }
}

/// <summary>
/// <c>POST /v1/embeddings</c> (OpenAI shape) and <c>POST /embed</c> (text-embeddings-inference
/// shape): parse, tokenize within the limits, queue, answer with TEI's timing headers.
/// </summary>
public static class EmbeddingEndpoints
{
    /// <summary>OpenAI embeddings.</summary>
    public static async Task<IResult> OpenAiAsync(HttpContext context, EncoderService service, bool autoTruncate)
    {
        var request = await ServingJson.ReadAsync<OpenAiEmbeddingRequest>(context.Request);
        bool base64 = request.EncodingFormat?.ToLowerInvariant() switch
        {
            null or "float" => false,
            "base64" => true,
            var f => throw ServingException.Invalid($"encoding_format must be 'float' or 'base64', got '{f}'"),
        };
        var sequences = Sequences(service, InputList.Parse(request.Input, "input"), autoTruncate, "the server cuts it when started with --auto-truncate");
        bool normalize = service.Embedding?.Normalizes ?? true;
        var outcome = await service.EmbedAsync(sequences, normalize, request.Dimensions, context.RequestAborted);
        Timing(context, outcome);
        var data = outcome.Vectors.Select((v, i) => new OpenAiEmbedding("embedding", base64 ? Base64(v) : v, i)).ToList();
        return ServingJson.Json(new OpenAiEmbeddingResponse("list", data, request.Model ?? service.ModelId,
            new OpenAiEmbeddingUsage(outcome.Tokens, outcome.Tokens)));
    }

    /// <summary>TEI embed: always a list of vectors.</summary>
    public static async Task<IResult> TeiAsync(HttpContext context, EncoderService service)
    {
        var request = await ServingJson.ReadAsync<TeiEmbedRequest>(context.Request);
        if (request.TruncationDirection is { } dir && !dir.Equals("right", StringComparison.OrdinalIgnoreCase))
            throw ServingException.Invalid($"truncation_direction '{dir}' is not supported; allowed: right");
        var sequences = Sequences(service, InputList.Parse(request.Inputs, "inputs"), request.Truncate);
        var outcome = await service.EmbedAsync(sequences, request.Normalize, request.Dimensions, context.RequestAborted);
        Timing(context, outcome);
        return ServingJson.Json(outcome.Vectors);
    }

    /// <summary>Token ids of the inputs, checked against the server's limits (<paramref name="hint"/>: how to ask for truncation).</summary>
    public static int[][] Sequences(EncoderService service, InputList inputs, bool truncate, string hint = "send truncate: true to cut it") =>
        inputs.Texts is { } texts ? service.Tokenize(texts, truncate, hint) : service.CheckIds(inputs.Ids!, truncate, hint);

    /// <summary>TEI's per-response timing headers (milliseconds) and token count.</summary>
    public static void Timing(HttpContext context, EncodeOutcome outcome)
    {
        var h = context.Response.Headers;
        h["x-queue-time"] = Ms(outcome.QueueTime);
        h["x-inference-time"] = Ms(outcome.InferenceTime);
        h["x-compute-tokens"] = outcome.Tokens.ToString(CultureInfo.InvariantCulture);
    }

    static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F3", CultureInfo.InvariantCulture);

    static string Base64(float[] v) => Convert.ToBase64String(MemoryMarshal.AsBytes(v.AsSpan()));
}

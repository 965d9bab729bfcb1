using Microsoft.AspNetCore.Http;

namespace DistillSharp.Serving.Http;

/// <summary>
/// A request the server answers with an error: HTTP status, an error type (the <c>type</c> of the
/// OpenAI error body) and a message that names the bad field or limit. Thrown by validation,
/// the batching queue and the endpoints; the error middleware turns it into
/// <c>{"error": {"message", "type", "code"}}</c>.
/// </summary>
public sealed class ServingException(int status, string type, string message) : Exception(message)
{
    /// <summary>HTTP status code.</summary>
    public int Status { get; } = status;
    /// <summary>Error type: <see cref="InvalidRequest"/>, <see cref="TooLarge"/>, <see cref="Overloaded"/>, ….</summary>
    public string Type { get; } = type;

    /// <summary>Error type of 422: the body does not have the shape or values the endpoint takes.</summary>
    public const string InvalidRequest = "invalid_request_error";
    /// <summary>Error type of 413: more inputs or tokens than the limits.</summary>
    public const string TooLarge = "request_too_large";
    /// <summary>Error type of 429: the batching queue is full.</summary>
    public const string Overloaded = "overloaded";
    /// <summary>Error type of 400: the served model cannot do what the endpoint does (/predict on an encoder).</summary>
    public const string Unsupported = "unsupported_model";
    /// <summary>Error type of 500/503: the model failed or the server is stopping.</summary>
    public const string Server = "server_error";

    /// <summary>422 invalid input.</summary>
    public static ServingException Invalid(string message) => new(StatusCodes.Status422UnprocessableEntity, InvalidRequest, message);
    /// <summary>413 too many inputs or tokens.</summary>
    public static ServingException Large(string message) => new(StatusCodes.Status413PayloadTooLarge, TooLarge, message);
    /// <summary>429 queue full.</summary>
    public static ServingException Busy(string message) => new(StatusCodes.Status429TooManyRequests, Overloaded, message);
}

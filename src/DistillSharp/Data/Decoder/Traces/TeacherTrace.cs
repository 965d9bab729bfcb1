using System.Globalization;
using System.Text.Json.Serialization;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>An alternative token at one position: its name as the endpoint spelled it and its log-probability.</summary>
public sealed record TraceTopToken(string Token, float Logprob);

/// <summary>
/// One answer of the teacher, as stored in <c>traces.jsonl</c>: the request's key, the prompt, the
/// completion text (and <c>reasoning_content</c> when the endpoint splits it off), why it stopped,
/// and — when log-probabilities were asked — each generated token's name, log-probability and
/// alternatives (most likely first). Token names are <c>token_id:N</c> when the endpoint honoured
/// <c>return_tokens_as_token_ids</c>, else the token's text.
/// </summary>
public sealed record TeacherTrace
{
    /// <summary>SHA-256 (hex) of (model, route, prompt, sampling options): the request's identity.</summary>
    public required string Key { get; init; }
    /// <summary>The prompt text sent.</summary>
    public required string Prompt { get; init; }
    /// <summary>The completion (chat: the assistant message content).</summary>
    public required string Text { get; init; }
    /// <summary>The endpoint's separate reasoning (<c>reasoning_content</c>), when it returns one.</summary>
    public string? Reasoning { get; init; }
    /// <summary><c>stop</c> or <c>length</c> (whatever the endpoint said).</summary>
    public string? FinishReason { get; init; }
    /// <summary>The reference answer of the prompt, when the prompt source has one (for the exact-match verifier).</summary>
    public string? Answer { get; init; }
    /// <summary>Generated tokens' names; null when no log-probabilities were asked.</summary>
    public IReadOnlyList<string>? Tokens { get; init; }
    /// <summary>Their log-probabilities.</summary>
    public IReadOnlyList<float>? TokenLogprobs { get; init; }
    /// <summary>Per generated token, the alternatives, most likely first.</summary>
    public IReadOnlyList<IReadOnlyList<TraceTopToken>>? Top { get; init; }
    /// <summary>Prompt tokens the endpoint counted (usage).</summary>
    public int PromptTokens { get; init; }
    /// <summary>Completion tokens the endpoint counted (usage).</summary>
    public int CompletionTokens { get; init; }

    /// <summary>The prefix of a token name that carries an id (vLLM's <c>return_tokens_as_token_ids</c>).</summary>
    public const string TokenIdPrefix = "token_id:";

    /// <summary>The id in a <c>token_id:N</c> name; null for a text name.</summary>
    public static int? TokenId(string name) =>
        name.StartsWith(TokenIdPrefix, StringComparison.Ordinal)
        && int.TryParse(name.AsSpan(TokenIdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : null;

    /// <summary>The generated tokens as ids; null when any name is not a <c>token_id:N</c> (or none were returned).</summary>
    [JsonIgnore]
    public int[]? TokenIds
    {
        get
        {
            if (Tokens is null) return null;
            var ids = new int[Tokens.Count];
            for (int i = 0; i < ids.Length; i++)
                if (TokenId(Tokens[i]) is int id) ids[i] = id;
                else return null;
            return ids;
        }
    }
}

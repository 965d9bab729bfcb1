using System.Text.Json;

namespace DistillSharp.Serving.Http;

/// <summary>Fields <c>/v1/completions</c> and <c>/v1/chat/completions</c> share (OpenAI, plus vLLM's top_k and repetition_penalty).</summary>
public abstract record GenerationRequest
{
    /// <summary>Echoed back.</summary>
    public string? Model { get; init; }
    /// <summary>Most tokens to generate.</summary>
    public int? MaxTokens { get; init; }
    /// <summary>Default 1; 0 = greedy.</summary>
    public double? Temperature { get; init; }
    /// <summary>Nucleus mass (1 = off).</summary>
    public double? TopP { get; init; }
    /// <summary>Keep the k most likely tokens (0 = off).</summary>
    public int? TopK { get; init; }
    /// <summary>CTRL repetition penalty (1 = off).</summary>
    public double? RepetitionPenalty { get; init; }
    /// <summary>Only 1.</summary>
    public int? N { get; init; }
    /// <summary>Server-sent events.</summary>
    public bool Stream { get; init; }
    /// <summary><c>include_usage</c>: a last chunk with the token counts.</summary>
    public StreamOptions? StreamOptions { get; init; }
    /// <summary>A string or up to 4 strings.</summary>
    public JsonElement Stop { get; init; }
    /// <summary>Sampler seed (default: random).</summary>
    public long? Seed { get; init; }
    /// <summary>vLLM's extension: log-probability tokens as <c>"token_id:123"</c> instead of their text (for token-level distillation).</summary>
    public bool ReturnTokensAsTokenIds { get; init; }
    /// <summary>Not supported unless 0.</summary>
    public double? PresencePenalty { get; init; }
    /// <summary>Not supported unless 0.</summary>
    public double? FrequencyPenalty { get; init; }
}

/// <summary><c>stream_options</c>.</summary>
public sealed record StreamOptions(bool IncludeUsage);

/// <summary>Body of <c>POST /v1/completions</c>.</summary>
public sealed record CompletionRequest : GenerationRequest
{
    /// <summary>A string, strings, token ids or token-id arrays (one choice per prompt).</summary>
    public JsonElement Prompt { get; init; }
    /// <summary>0–5: the chosen token's log-probability and this many alternatives per position.</summary>
    public int? Logprobs { get; init; }
    /// <summary>Return the prompt before the completion, and with logprobs its tokens' log-probabilities (the first's null); max_tokens may then be 0.</summary>
    public bool Echo { get; init; }
}

/// <summary>One chat message; <see cref="Content"/> is a string or an array of <c>{"type": "text", "text": …}</c> parts.</summary>
public sealed record ChatMessage(string Role, JsonElement Content);

/// <summary>Body of <c>POST /v1/chat/completions</c>.</summary>
public sealed record ChatRequest : GenerationRequest
{
    /// <summary>The conversation.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>Newer name of max_tokens.</summary>
    public int? MaxCompletionTokens { get; init; }
    /// <summary>Return log-probabilities of the generated tokens.</summary>
    public bool Logprobs { get; init; }
    /// <summary>0–20 alternatives per position (needs logprobs).</summary>
    public int? TopLogprobs { get; init; }
}

/// <summary>Token counts.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>Legacy completions' log-probabilities, one entry per generated token (with echo, per prompt token first: the first prompt token's are null).</summary>
public sealed record CompletionLogprobs(IReadOnlyList<string> Tokens, IReadOnlyList<float?> TokenLogprobs,
    IReadOnlyList<IReadOnlyDictionary<string, float>?> TopLogprobs, IReadOnlyList<int> TextOffset);

/// <summary>One choice of a completions response or chunk.</summary>
public sealed record CompletionChoice(string Text, int Index, CompletionLogprobs? Logprobs, string? FinishReason);

/// <summary>A completions response, or (object = text_completion, streamed) one chunk.</summary>
public sealed record CompletionResponse(string Id, string Object, long Created, string Model, IReadOnlyList<CompletionChoice> Choices, Usage? Usage);

/// <summary>An alternative token of a chat log-probability entry.</summary>
public sealed record ChatTopLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes);
/// <summary>One generated token of chat log-probabilities, with its alternatives most likely first.</summary>
public sealed record ChatTokenLogprob(string Token, float Logprob, IReadOnlyList<int> Bytes, IReadOnlyList<ChatTopLogprob> TopLogprobs);
/// <summary><c>logprobs</c> of a chat choice.</summary>
public sealed record ChatLogprobs(IReadOnlyList<ChatTokenLogprob> Content);
/// <summary>An assistant message (response) or a delta (chunk).</summary>
public sealed record ChatDelta(string? Role, string? Content);
/// <summary>A choice of a chat response (<see cref="Message"/>) or chunk (<see cref="Delta"/>).</summary>
public sealed record ChatChoice(int Index, ChatDelta? Message, ChatDelta? Delta, ChatLogprobs? Logprobs, string? FinishReason);
/// <summary>A chat response (object chat.completion) or chunk (chat.completion.chunk).</summary>
public sealed record ChatResponse(string Id, string Object, long Created, string Model, IReadOnlyList<ChatChoice> Choices, Usage? Usage);

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>A teacher served behind an OpenAI-compatible HTTP endpoint (vLLM, llama.cpp's server, Ollama, a hosted API, <c>distill serve</c>).</summary>
/// <param name="Endpoint">Base URL up to and including <c>/v1</c>, e.g. <c>http://127.0.0.1:8080/v1</c>.</param>
/// <param name="Model">The <c>model</c> field of every request.</param>
/// <param name="ApiKeyEnv">Environment variable holding the bearer token; null = no Authorization header.</param>
public sealed record EndpointTeacher(string Endpoint, string Model, string? ApiKeyEnv = null)
{
    /// <summary>A stable name of the teacher for cache keys (endpoint and model; never the key).</summary>
    public string Identity => $"endpoint {Endpoint.TrimEnd('/')} model {Model}";
}

/// <summary>Which OpenAI route the collector asks.</summary>
public enum TraceApi
{
    /// <summary><c>/v1/completions</c>: the prompt text is continued as is (base models).</summary>
    Completions,
    /// <summary><c>/v1/chat/completions</c>: the prompt is one user message (chat models).</summary>
    Chat,
}

/// <summary>What is asked of the teacher for every prompt; all of it is part of a trace's key.</summary>
/// <param name="MaxTokens">Most tokens the teacher writes.</param>
/// <param name="Temperature">Sampling temperature (0 = greedy).</param>
/// <param name="TopP">Nucleus mass (1 = off).</param>
/// <param name="TopK">vLLM's top_k extension (0 = not sent).</param>
/// <param name="TopLogprobs">Alternatives per position whose log-probabilities are returned (0 = no log-probabilities).</param>
/// <param name="TokenIds">Send vLLM's <c>return_tokens_as_token_ids</c> so tokens come back as <c>token_id:N</c> (needed for token-level KD).</param>
/// <param name="Seed">Base seed; each prompt's request seed is derived from it and the prompt text.</param>
public sealed record TraceSampling(int MaxTokens, double Temperature = 1, double TopP = 1, int TopK = 0, int TopLogprobs = 0,
    bool TokenIds = true, int Seed = 0);

/// <summary>How hard the collector may push the endpoint and how it recovers.</summary>
/// <param name="Concurrency">Requests in flight at once.</param>
/// <param name="RequestsPerSecond">Most requests started per second (0 = no limit).</param>
/// <param name="TimeoutSeconds">Per-attempt timeout.</param>
/// <param name="Retries">Attempts after the first on 429, 5xx, a dropped connection or a timeout.</param>
/// <param name="BackoffSeconds">First retry delay; doubled per attempt (with jitter), or the server's Retry-After.</param>
/// <param name="MaxBackoffSeconds">Cap on one retry delay.</param>
public sealed record CollectLimits(int Concurrency = 4, double RequestsPerSecond = 0, double TimeoutSeconds = 120, int Retries = 8,
    double BackoffSeconds = 0.5, double MaxBackoffSeconds = 30);

/// <summary>One prompt to send, with the reference answer the exact-match verifier compares against (when known).</summary>
public sealed record TracePrompt(string Text, string? Answer = null);

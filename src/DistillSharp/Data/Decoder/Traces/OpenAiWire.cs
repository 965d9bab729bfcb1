using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>
/// The OpenAI wire format of one trace request and its answer, for <c>/v1/completions</c> (choice
/// <c>text</c>; <c>logprobs.tokens</c>, <c>token_logprobs</c>, <c>top_logprobs</c> as name → log-prob
/// maps) and <c>/v1/chat/completions</c> (<c>message.content</c>, <c>message.reasoning_content</c>;
/// <c>logprobs.content[]</c> with <c>token</c>, <c>logprob</c>, <c>top_logprobs[]</c>). Extensions that
/// vLLM and <c>distill serve</c> accept (<c>top_k</c>, <c>return_tokens_as_token_ids</c>) are sent only
/// when asked for.
/// </summary>
public static class OpenAiWire
{
    /// <summary>The route below the endpoint's base URL.</summary>
    public static string Route(TraceApi api) => api == TraceApi.Chat ? "chat/completions" : "completions";

    /// <summary>The request key: SHA-256 over the model, the route, the prompt and every sampling option.</summary>
    public static string Key(EndpointTeacher teacher, TraceApi api, string prompt, TraceSampling s)
    {
        string text = string.Join("\0", "distillsharp-trace-v1", teacher.Model, Route(api), prompt,
            Invariant($"max={s.MaxTokens} T={s.Temperature:R} top_p={s.TopP:R} top_k={s.TopK} logprobs={s.TopLogprobs} ids={s.TokenIds} seed={s.Seed}"));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    /// <summary>The key of scoring token ids with echo: SHA-256 over the model, the ids and the number of log-probabilities.</summary>
    public static string ScoreKey(EndpointTeacher teacher, IReadOnlyList<int> ids, int topLogprobs) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\0", "distillsharp-score-v1", teacher.Model, Route(TraceApi.Completions),
            Invariant($"logprobs={topLogprobs}"), string.Join(",", ids)))));

    /// <summary>
    /// The body that scores <paramref name="ids"/> without generating: legacy completions with the
    /// prompt as token ids, <c>echo</c>, <c>max_tokens: 0</c>, <c>logprobs: k</c>, token names as ids.
    /// </summary>
    public static string ScoreRequest(EndpointTeacher teacher, IReadOnlyList<int> ids, int topLogprobs) =>
        new JsonObject
        {
            ["model"] = teacher.Model, ["prompt"] = new JsonArray([.. ids.Select(i => (JsonNode)i)]), ["echo"] = true, ["max_tokens"] = 0,
            ["logprobs"] = topLogprobs, ["temperature"] = 0, ["return_tokens_as_token_ids"] = true,
        }.ToJsonString();

    /// <summary>The request's sampler seed: derived from the base seed and the prompt, so it does not depend on the prompt's position.</summary>
    public static int RequestSeed(int seed, string prompt) =>
        BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(Invariant($"{seed}\0{prompt}")))) & int.MaxValue;

    /// <summary>The JSON body of the request.</summary>
    public static string Request(EndpointTeacher teacher, TraceApi api, string prompt, TraceSampling s)
    {
        var body = new JsonObject { ["model"] = teacher.Model };
        if (api == TraceApi.Chat)
        {
            body["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt });
            if (s.TopLogprobs > 0)
            {
                body["logprobs"] = true;
                body["top_logprobs"] = s.TopLogprobs;
            }
        }
        else
        {
            body["prompt"] = prompt;
            if (s.TopLogprobs > 0) body["logprobs"] = s.TopLogprobs;
        }
        body["max_tokens"] = s.MaxTokens;
        body["temperature"] = s.Temperature;
        if (s.TopP != 1) body["top_p"] = s.TopP;
        if (s.TopK > 0) body["top_k"] = s.TopK;
        if (s.TopLogprobs > 0 && s.TokenIds) body["return_tokens_as_token_ids"] = true;
        body["seed"] = RequestSeed(s.Seed, prompt);
        return body.ToJsonString();
    }

    /// <summary>Parses a (non-streamed) response into a trace; a response of the wrong shape is an error naming the field.</summary>
    public static TeacherTrace Parse(TraceApi api, string json, string key, TracePrompt prompt)
    {
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(json).RootElement;
        }
        catch (JsonException e)
        {
            throw new DistillSharpException($"the teacher endpoint answered with invalid JSON: {e.Message}");
        }
        if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            throw new DistillSharpException("the teacher endpoint's answer has no 'choices'");
        var choice = choices[0];
        string? finish = Str(choice, "finish_reason");
        string text;
        string? reasoning = null;
        List<string>? tokens = null;
        List<float>? logprobs = null;
        List<IReadOnlyList<TraceTopToken>>? top = null;
        if (api == TraceApi.Chat)
        {
            var message = choice.TryGetProperty("message", out var m) ? m : throw new DistillSharpException("the teacher's chat answer has no 'choices[0].message'");
            text = Str(message, "content") ?? "";
            reasoning = Str(message, "reasoning_content") ?? Str(message, "reasoning");
            if (choice.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object && lp.TryGetProperty("content", out var content)
                && content.ValueKind == JsonValueKind.Array)
            {
                tokens = [];
                logprobs = [];
                top = [];
                foreach (var t in content.EnumerateArray())
                {
                    tokens.Add(Str(t, "token") ?? throw new DistillSharpException("a chat logprobs entry has no 'token'"));
                    logprobs.Add(t.TryGetProperty("logprob", out var l) ? l.GetSingle() : float.NaN);
                    top.Add(t.TryGetProperty("top_logprobs", out var alts) && alts.ValueKind == JsonValueKind.Array
                        ? Sorted(alts.EnumerateArray().Select(a => new TraceTopToken(Str(a, "token") ?? "", a.GetProperty("logprob").GetSingle())))
                        : []);
                }
            }
        }
        else
        {
            text = Str(choice, "text") ?? throw new DistillSharpException("the teacher's completion has no 'choices[0].text'");
            if (choice.TryGetProperty("logprobs", out var lp) && lp.ValueKind == JsonValueKind.Object)
            {
                tokens = lp.GetProperty("tokens").EnumerateArray().Select(t => t.GetString() ?? "").ToList();
                logprobs = lp.GetProperty("token_logprobs").EnumerateArray().Select(t => t.ValueKind == JsonValueKind.Number ? t.GetSingle() : float.NaN).ToList();
                top = lp.TryGetProperty("top_logprobs", out var tops) && tops.ValueKind == JsonValueKind.Array
                    ? tops.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Object
                        ? Sorted(d.EnumerateObject().Select(p => new TraceTopToken(p.Name, p.Value.GetSingle())))
                        : (IReadOnlyList<TraceTopToken>)[]).ToList()
                    : null;
            }
        }
        var usage = root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        return new TeacherTrace
        {
            Key = key, Prompt = prompt.Text, Text = text, Reasoning = reasoning, FinishReason = finish, Answer = prompt.Answer,
            Tokens = tokens, TokenLogprobs = logprobs, Top = top,
            PromptTokens = Count(usage, "prompt_tokens"), CompletionTokens = Count(usage, "completion_tokens") is int c and > 0 ? c : tokens?.Count ?? 0,
        };
    }

    static IReadOnlyList<TraceTopToken> Sorted(IEnumerable<TraceTopToken> tokens) => tokens.OrderByDescending(t => t.Logprob).ToList();

    static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static int Count(JsonElement usage, string name) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(name, out var v) && v.TryGetInt32(out int n) ? n : 0;

    static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

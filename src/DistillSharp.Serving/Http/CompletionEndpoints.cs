using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using DistillSharp.Serving.Backends;
using Microsoft.AspNetCore.Http;

namespace DistillSharp.Serving.Http;

/// <summary>
/// <c>POST /v1/completions</c> and <c>POST /v1/chat/completions</c> in the OpenAI shapes, whole or
/// streamed as server-sent events (<c>data: {chunk}</c> … <c>data: [DONE]</c>). Log-probabilities are
/// the log-softmax of the model's raw logits at each generated position (before repetition
/// penalty, temperature and top-k/top-p), the chosen token's and the top alternatives sorted most
/// likely first; every generated token has an entry, a final EOS included. Legacy completions with
/// <c>echo</c> (not streamed) return the prompt first, text and log-probabilities (the first prompt
/// token's null, as in OpenAI's and vLLM's scoring), and take <c>max_tokens: 0</c> to score only.
/// </summary>
public static class CompletionEndpoints
{
    /// <summary>Legacy completions: one choice per prompt.</summary>
    public static async Task<IResult> CompletionsAsync(HttpContext context, CompletionService service)
    {
        var request = await ServingJson.ReadAsync<CompletionRequest>(context.Request);
        if (request.Echo && request.Stream) throw ServingException.Invalid("echo cannot be streamed; send stream: false");
        if (request.Logprobs is < 0 or > 5) throw ServingException.Invalid($"logprobs must be in [0, 5], got {request.Logprobs}");
        var inputs = InputList.Parse(request.Prompt, "prompt");
        var prompts = inputs.Texts?.Select(service.Backend.Encode).ToList() ?? inputs.Ids!.ToList();
        if (prompts.Count > 16) throw ServingException.Large($"{prompts.Count} prompts in one request; at most 16");
        int topLogprobs = request.Logprobs ?? -1;
        var run = Start(context, service, request, prompts, request.MaxTokens ?? 16, topLogprobs, request.Echo);
        string id = "cmpl-" + RandomId(), model = request.Model ?? service.ModelId;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!request.Stream)
        {
            var results = await run.Results();
            var choices = results.Select((r, i) => new CompletionChoice(request.Echo ? service.Backend.Decode(prompts[i]) + r.Text : r.Text, i,
                topLogprobs >= 0 ? Legacy(service.Backend, [.. r.Prompt ?? [], .. r.Tokens], request.ReturnTokensAsTokenIds) : null, r.FinishReason)).ToList();
            return ServingJson.Json(new CompletionResponse(id, "text_completion", created, model, choices, run.Usage(results)));
        }
        await run.StreamAsync(context,
            (i, t) => new CompletionResponse(id, "text_completion", created, model,
                [new CompletionChoice(t.Text, i, topLogprobs >= 0 ? Legacy(service.Backend, [t], request.ReturnTokensAsTokenIds) : null, null)], null),
            (i, r) => new CompletionResponse(id, "text_completion", created, model, [new CompletionChoice("", i, null, r.FinishReason)], null),
            usage => new CompletionResponse(id, "text_completion", created, model, [], usage));
        return Results.Empty;
    }

    /// <summary>Chat completions: the messages rendered as a plain transcript (see <see cref="Transcript"/>).</summary>
    public static async Task<IResult> ChatAsync(HttpContext context, CompletionService service)
    {
        var request = await ServingJson.ReadAsync<ChatRequest>(context.Request);
        if (request.TopLogprobs is < 0 or > 20) throw ServingException.Invalid($"top_logprobs must be in [0, 20], got {request.TopLogprobs}");
        if (request.TopLogprobs is not null && !request.Logprobs) throw ServingException.Invalid("top_logprobs needs logprobs: true");
        var prompt = service.Backend.Encode(Transcript(request.Messages));
        int topLogprobs = request.Logprobs ? request.TopLogprobs ?? 0 : -1;
        int maxTokens = request.MaxCompletionTokens ?? request.MaxTokens ?? Math.Max(1, Math.Min(256, service.Backend.MaxContext - prompt.Length));
        var run = Start(context, service, request, [prompt], maxTokens, topLogprobs);
        string id = "chatcmpl-" + RandomId(), model = request.Model ?? service.ModelId;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (!request.Stream)
        {
            var results = await run.Results();
            var choices = results.Select((r, i) => new ChatChoice(i, new ChatDelta("assistant", r.Text), null,
                topLogprobs >= 0 ? Chat(service.Backend, r.Tokens, request.ReturnTokensAsTokenIds) : null, r.FinishReason)).ToList();
            return ServingJson.Json(new ChatResponse(id, "chat.completion", created, model, choices, run.Usage(results)));
        }
        bool first = true;
        await run.StreamAsync(context,
            (i, t) =>
            {
                var delta = new ChatDelta(first ? "assistant" : null, t.Text);
                first = false;
                return new ChatResponse(id, "chat.completion.chunk", created, model,
                    [new ChatChoice(i, null, delta, topLogprobs >= 0 ? Chat(service.Backend, [t], request.ReturnTokensAsTokenIds) : null, null)], null);
            },
            (i, r) => new ChatResponse(id, "chat.completion.chunk", created, model, [new ChatChoice(i, null, new ChatDelta(null, null), null, r.FinishReason)], null),
            usage => new ChatResponse(id, "chat.completion.chunk", created, model, [], usage));
        return Results.Empty;
    }

    /// <summary>
    /// The prompt of a conversation: each message as <c>"Role: content\n"</c> (role capitalised),
    /// then <c>"Assistant:"</c> for the model to continue. Our LMs are trained on plain text and have
    /// no chat template; this transcript is what a base model continues most naturally.
    /// </summary>
    public static string Transcript(IReadOnlyList<ChatMessage>? messages)
    {
        if (messages is null || messages.Count == 0) throw ServingException.Invalid("'messages' must be a non-empty array");
        var text = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i] ?? throw ServingException.Invalid($"'messages[{i}]' is null");
            if (m.Role is not ("system" or "developer" or "user" or "assistant"))
                throw ServingException.Invalid($"'messages[{i}].role' must be system, developer, user or assistant, got '{m.Role}'");
            text.Append(char.ToUpperInvariant(m.Role[0])).Append(m.Role.AsSpan(1)).Append(": ").Append(Content(m.Content, i)).Append('\n');
        }
        return text.Append("Assistant:").ToString();
    }

    static string Content(JsonElement content, int i)
    {
        if (content.ValueKind == JsonValueKind.String) return ServingJson.Text(content);
        if (content.ValueKind == JsonValueKind.Array)
            return string.Concat(content.EnumerateArray().Select((p, j) =>
                p.ValueKind == JsonValueKind.Object && p.TryGetProperty("type", out var type) && type.ValueEquals("text") &&
                p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? ServingJson.Text(t)
                : throw ServingException.Invalid($"'messages[{i}].content[{j}]' must be {{\"type\": \"text\", \"text\": …}} (only text parts are supported)")));
        throw ServingException.Invalid($"'messages[{i}].content' must be a string or an array of text parts");
    }

    static GenerationRun Start(HttpContext context, CompletionService service, GenerationRequest r, List<int[]> prompts, int maxTokens, int topLogprobs,
        bool echo = false)
    {
        if (r.N is { } n && n != 1) throw ServingException.Invalid($"n must be 1, got {n} (send the prompt again for more choices)");
        if (r.PresencePenalty is { } pp && pp != 0) throw ServingException.Invalid("presence_penalty is not supported; use repetition_penalty");
        if (r.FrequencyPenalty is { } fp && fp != 0) throw ServingException.Invalid("frequency_penalty is not supported; use repetition_penalty");
        ulong seed = r.Seed is { } s ? unchecked((ulong)s) : (ulong)Random.Shared.NextInt64();
        var sampling = new SamplingParams(r.Temperature ?? 1, r.TopP ?? 1, r.TopK ?? 0, r.RepetitionPenalty ?? 1, seed);
        return new GenerationRun(context, service, prompts, maxTokens, sampling, StopStrings(r.Stop), topLogprobs, r.Stream,
            r.StreamOptions?.IncludeUsage ?? false, echo);
    }

    static IReadOnlyList<string> StopStrings(JsonElement stop) => stop.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null => [],
        JsonValueKind.String => [ServingJson.Text(stop)],
        JsonValueKind.Array when stop.GetArrayLength() <= 4 && stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) =>
            stop.EnumerateArray().Select(s => ServingJson.Text(s)).ToList(),
        _ => throw ServingException.Invalid("'stop' must be a string or an array of at most 4 strings"),
    };

    static CompletionLogprobs Legacy(ICompletionBackend backend, IReadOnlyList<GeneratedToken> tokens, bool asIds)
    {
        string Name(int id) => asIds ? TokenIdName(id) : backend.Decode([id]);
        var texts = new List<string>();
        var offsets = new List<int>();
        int offset = 0;
        foreach (var t in tokens)
        {
            texts.Add(Name(t.Id));
            offsets.Add(offset);
            offset += backend.Decode([t.Id]).Length;
        }
        var tops = tokens.Select(t =>
        {
            if (t.Logprob is null) return null;                      // an echoed prompt's first token: nothing before it
            var d = new Dictionary<string, float>();
            foreach (var a in t.Top) d.TryAdd(Name(a.Id), a.Logprob);  // distinct ids may decode alike; the likelier stays
            return (IReadOnlyDictionary<string, float>?)d;
        }).ToList();
        return new CompletionLogprobs(texts, tokens.Select(t => t.Logprob?.Logprob).ToList(), tops, offsets);
    }

    static ChatLogprobs Chat(ICompletionBackend backend, IReadOnlyList<GeneratedToken> tokens, bool asIds)
    {
        string Name(int id) => asIds ? TokenIdName(id) : backend.Decode([id]);
        return new(tokens.Select(t => new ChatTokenLogprob(Name(t.Id), t.Logprob?.Logprob ?? 0, Bytes(backend, t.Id),
            t.Top.Select(a => new ChatTopLogprob(Name(a.Id), a.Logprob, Bytes(backend, a.Id))).ToList())).ToList());
    }

    /// <summary>vLLM's token name under return_tokens_as_token_ids.</summary>
    public static string TokenIdName(int id) => "token_id:" + id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    static int[] Bytes(ICompletionBackend backend, int id) => backend.TokenBytes(id).Select(b => (int)b).ToArray();

    static string RandomId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));

    /// <summary>The jobs of one request in the queue, read whole or as a stream.</summary>
    sealed class GenerationRun
    {
        readonly Channel<(int Index, GeneratedToken Token)> _tokens = Channel.CreateUnbounded<(int, GeneratedToken)>(new UnboundedChannelOptions { SingleReader = true });
        readonly Task<CompletionResult[]> _all;
        readonly List<int[]> _prompts;
        readonly bool _includeUsage;

        public GenerationRun(HttpContext context, CompletionService service, List<int[]> prompts, int maxTokens, SamplingParams sampling,
            IReadOnlyList<string> stop, int topLogprobs, bool stream, bool includeUsage, bool echo)
        {
            _prompts = prompts;
            _includeUsage = includeUsage;
            var cancel = context.RequestAborted;
            var tasks = prompts.Select((p, i) => service.SubmitAsync(new CompletionJob(p, maxTokens, sampling, stop, topLogprobs,
                stream ? t => _tokens.Writer.TryWrite((i, t)) : null, cancel, echo))).ToList();
            _all = Task.WhenAll(tasks);
            _all.ContinueWith(_ => _tokens.Writer.TryComplete(), TaskScheduler.Default);
        }

        public Task<CompletionResult[]> Results() => _all;

        public Usage Usage(IReadOnlyList<CompletionResult> results)
        {
            int prompt = _prompts.Sum(p => p.Length), completion = results.Sum(r => r.Tokens.Count);
            return new Usage(prompt, completion, prompt + completion);
        }

        public async Task StreamAsync(HttpContext context, Func<int, GeneratedToken, object> chunk, Func<int, CompletionResult, object> finish,
            Func<Usage, object> usage)
        {
            var response = context.Response;
            var cancel = context.RequestAborted;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            await response.StartAsync(cancel);
            await foreach (var (i, t) in _tokens.Reader.ReadAllAsync(cancel))
                if (t.Text.Length > 0 || t.Logprob is not null) await SendAsync(response, chunk(i, t), cancel);
            CompletionResult[] results;
            try
            {
                results = await _all;
            }
            catch (ServingException e)
            {
                await SendAsync(response, new ErrorBody(new ErrorDetail(e.Message, e.Type, e.Status)), cancel);
                return;
            }
            for (int i = 0; i < results.Length; i++) await SendAsync(response, finish(i, results[i]), cancel);
            if (_includeUsage) await SendAsync(response, usage(Usage(results)), cancel);
            await response.WriteAsync("data: [DONE]\n\n", cancel);
            await response.Body.FlushAsync(cancel);
        }

        static async Task SendAsync(HttpResponse response, object value, CancellationToken cancel)
        {
            await response.WriteAsync("data: " + JsonSerializer.Serialize(value, value.GetType(), ServingJson.Options) + "\n\n", cancel);
            await response.Body.FlushAsync(cancel);
        }
    }
}

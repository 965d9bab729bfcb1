using System.ClientModel;
using System.Text;
using System.Text.Json;
using DistillSharp.Serving;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>/v1/completions and /v1/chat/completions on a tiny INT8 decoder: exact logprobs, SSE streaming, the OpenAI SDK and Microsoft.Extensions.AI as clients.</summary>
public sealed class CompletionEndpointTests : IAsyncLifetime
{
    ServingServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await StartDecoder(new ServerOptions(Batching: new DistillSharp.Serving.Batching.BatchingOptions(MaxWaitMs: 5)));
        _client = Client(_server);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await StopAsync(_server);
    }

    ChatClient OpenAiChat() => new("tiny-lm-int8", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "v1") });

    static int Id(JsonElement token) => int.Parse(token.GetProperty("token").GetString()!["token_id:".Length..]);

    [Fact]
    public async Task LogprobsAreTheLogSoftmaxOfTheModelsLogitsAtEachPosition()
    {
        var (status, body) = await PostAsync(_client, "/v1/chat/completions", new
        {
            messages = new[] { new { role = "user", content = "an expert who gives advice" } },
            max_tokens = 6, temperature = 0.9, seed = 3, logprobs = true, top_logprobs = 5, return_tokens_as_token_ids = true,
        });
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        var content = choice.GetProperty("logprobs").GetProperty("content").EnumerateArray().ToList();
        int[] prompt = _server.Completion!.Backend.Encode(DistillSharp.Serving.Http.CompletionEndpoints.Transcript(
            [new DistillSharp.Serving.Http.ChatMessage("user", JsonDocument.Parse("\"an expert who gives advice\"").RootElement)]));
        int[] generated = content.Select(Id).ToArray();
        Assert.Equal(body.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), generated.Length);
        using var reference = Decoder();
        var logits = reference.Logits([.. prompt, .. generated]);                         // (T, V), bit-identical to cached decoding
        int v = reference.Config.VocabSize;
        for (int k = 0; k < generated.Length; k++)
        {
            var row = logits.AsSpan((prompt.Length - 1 + k) * v, v).ToArray();
            double max = double.NegativeInfinity, sum = 0;
            foreach (float x in row) max = Math.Max(max, x);
            foreach (float x in row) sum += Math.Exp(x - max);
            double logZ = max + Math.Log(sum);
            Assert.Equal((float)(row[generated[k]] - logZ), content[k].GetProperty("logprob").GetSingle());
            var top = content[k].GetProperty("top_logprobs").EnumerateArray().ToList();
            int[] expectedTop = Enumerable.Range(0, v).OrderByDescending(i => row[i]).ThenBy(i => i).Take(5).ToArray();
            Assert.Equal(expectedTop, top.Select(Id));
            Assert.Equal(expectedTop.Select(i => (float)(row[i] - logZ)), top.Select(t => t.GetProperty("logprob").GetSingle()));
            Assert.Equal(ServingTestKit.DecoderTokenizer.Decode([generated[k]]),
                Encoding.UTF8.GetString(content[k].GetProperty("bytes").EnumerateArray().Select(b => (byte)b.GetInt32()).ToArray()));
        }
    }

    [Fact]
    public async Task GreedyCompletionIsTheArgmaxChainAndUsageCounts()
    {
        var (status, body) = await PostAsync(_client, "/v1/completions", new { prompt = "a small", max_tokens = 5, temperature = 0, logprobs = 2, return_tokens_as_token_ids = true });
        Assert.Equal(200, status);
        Assert.Equal("text_completion", body.GetProperty("object").GetString());
        var choice = body.GetProperty("choices")[0];
        var lp = choice.GetProperty("logprobs");
        var tops = lp.GetProperty("top_logprobs").EnumerateArray().ToList();
        var chosen = lp.GetProperty("token_logprobs").EnumerateArray().Select(x => x.GetSingle()).ToList();
        for (int k = 0; k < tops.Count; k++)
        {
            var values = tops[k].EnumerateObject().Select(p => p.Value.GetSingle()).ToList();
            Assert.True(values.Count is 1 or 2);
            Assert.Equal(values.Max(), chosen[k]);                                         // greedy: the chosen token is the most likely
        }
        string finish = choice.GetProperty("finish_reason").GetString()!;
        Assert.True(finish == "length" ? tops.Count == 5 : finish == "stop");
        var usage = body.GetProperty("usage");
        Assert.Equal(_server.Completion!.Backend.Encode("a small").Length, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(tops.Count, usage.GetProperty("completion_tokens").GetInt32());
        var ids = lp.GetProperty("tokens").EnumerateArray().Select(t => int.Parse(t.GetString()!["token_id:".Length..])).ToList();
        if (finish == "stop") ids.RemoveAt(ids.Count - 1);                                 // the EOS has a logprob entry but no text
        Assert.Equal(ServingTestKit.DecoderTokenizer.Decode(ids), choice.GetProperty("text").GetString());
    }

    [Fact]
    public async Task OpenAiSdkStreamingEqualsTheWholeResponse()
    {
        var chat = OpenAiChat();
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; the server honours it
        var options = new ChatCompletionOptions { Temperature = 0.8f, Seed = 11, MaxOutputTokenCount = 8 };
#pragma warning restore OPENAI001
        List<OpenAI.Chat.ChatMessage> messages = [new SystemChatMessage("be brief"), new UserChatMessage("a person who")];
        var whole = (await chat.CompleteChatAsync(messages, options)).Value;
        var streamed = new StringBuilder();
        string? finish = null;
        await foreach (var update in chat.CompleteChatStreamingAsync(messages, options))
        {
            foreach (var part in update.ContentUpdate) streamed.Append(part.Text);
            if (update.FinishReason is { } f) finish = f.ToString();
        }
        Assert.Equal(whole.Content.Count == 0 ? "" : whole.Content[0].Text, streamed.ToString());
        Assert.Equal(whole.FinishReason.ToString(), finish);
    }

    [Fact]
    public async Task ExtensionsAiChatClientWorks()
    {
        IChatClient chat = OpenAiChat().AsIChatClient();
        var response = await chat.GetResponseAsync("the sea", new ChatOptions { Temperature = 0, MaxOutputTokens = 4 });
        Assert.Equal(ChatRole.Assistant, response.Messages[0].Role);
        Assert.True(response.Usage?.OutputTokenCount is >= 1 and <= 4);
        var pieces = new List<string>();
        await foreach (var update in chat.GetStreamingResponseAsync("the sea", new ChatOptions { Temperature = 0, MaxOutputTokens = 4 }))
            pieces.Add(update.Text);
        Assert.Equal(response.Text, string.Concat(pieces));
    }

    [Fact]
    public async Task CompletionsStreamAsServerSentEvents()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { prompt = "a small", max_tokens = 4, temperature = 0, stream = true, stream_options = new { include_usage = true } }),
                Encoding.UTF8, "application/json"),
        };
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync();
        var events = text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries).ToList();
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToList();
        Assert.True(chunks[^1].GetProperty("usage").GetProperty("completion_tokens").GetInt32() >= 1);
        Assert.NotNull(chunks[^2].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        string streamed = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray()).Select(c => c.GetProperty("text").GetString()));
        var (_, whole) = await PostAsync(_client, "/v1/completions", new { prompt = "a small", max_tokens = 4, temperature = 0 });
        Assert.Equal(whole.GetProperty("choices")[0].GetProperty("text").GetString(), streamed);
    }

    [Fact]
    public async Task ConcurrentSampledRequestsGiveWhatEachGivesAlone()
    {
        object Body(int i) => new { prompt = ServingTestKit.Texts[i], max_tokens = 6, temperature = 1.0, top_k = 20, seed = 100 + i };
        var alone = new List<string>();
        for (int i = 0; i < 4; i++) alone.Add((await PostAsync(_client, "/v1/completions", Body(i))).Body.GetProperty("choices")[0].GetProperty("text").GetString()!);
        var together = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => PostAsync(_client, "/v1/completions", Body(i))));
        Assert.Equal(alone, together.Select(r => r.Body.GetProperty("choices")[0].GetProperty("text").GetString()));
    }

    public static TheoryData<string, string, int, string> BadRequests => new()
    {
        { "/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 100}", 413, "context of 64" },
        { "/v1/completions", "{\"prompt\": \"a\", \"n\": 2}", 422, "n must be 1" },
        { "/v1/completions", "{\"prompt\": \"a\", \"logprobs\": 6}", 422, "logprobs must be in [0, 5]" },
        { "/v1/completions", "{\"prompt\": \"a\", \"echo\": true, \"stream\": true}", 422, "echo cannot be streamed" },
        { "/v1/completions", "{\"prompt\": [5, 6], \"echo\": true, \"max_tokens\": 0, \"logprobs\": 6}", 422, "logprobs must be in [0, 5]" },
        { "/v1/completions", "{\"prompt\": [5, 999], \"echo\": true, \"max_tokens\": 0, \"logprobs\": 5}", 422, "outside the vocabulary" },
        { "/v1/completions", "{\"prompt\": [5, 6], \"echo\": true, \"max_tokens\": -1}", 422, "max_tokens must be >= 0" },
        { "/v1/completions", "{\"prompt\": \"a\", \"temperature\": -1}", 422, "temperature" },
        { "/v1/completions", "{\"prompt\": \"a\", \"top_p\": 0}", 422, "top_p" },
        { "/v1/completions", "{\"prompt\": \"a\", \"stop\": 3}", 422, "'stop'" },
        { "/v1/completions", "{\"prompt\": [5, 999]}", 422, "outside the vocabulary" },
        { "/v1/completions", "{\"prompt\": \"a\", \"max_tokens\": 0}", 422, "max_tokens" },
        { "/v1/chat/completions", "{\"messages\": []}", 422, "non-empty" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}", 422, "role" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\"}]}]}", 422, "text parts" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 3}", 422, "needs logprobs" },
        { "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logprobs\": true, \"top_logprobs\": 21}", 422, "[0, 20]" },
        { "/v1/embeddings", "{\"input\": \"a\"}", 400, "needs an encoder" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputGetsItsStatusAndAJsonError(string path, string json, int status, string message)
    {
        var (code, body) = await PostAsync(_client, path, json);
        Assert.Equal(status, code);
        Assert.Contains(message, body.GetProperty("error").GetProperty("message").GetString());
    }
}

using System.Text.Json;
using DistillSharp.Serving;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>
/// /v1/completions with echo on a real Kestrel server: a prompt of token ids scored position by
/// position (OpenAI's legacy scoring), checked against the log-softmax of the INT8 runtime's own
/// logits of the same ids (the golden: <c>Int8Decoder.Logits</c>, recomputed here in double).
/// </summary>
public sealed class EchoScoringTests : IAsyncLifetime
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

    static int Id(string name) => int.Parse(name["token_id:".Length..]);

    [Fact]
    public async Task EchoedTokenIdsCarryTheLogSoftmaxOfTheLogitsBeforeThem()
    {
        int[] ids = [.. ServingTestKit.DecoderTokenizer.Encode("an expert who gives advice about a small word", false).Take(12)];
        Assert.True(ids.Length >= 8);
        var (status, body) = await PostAsync(_client, "/v1/completions", new
        {
            prompt = ids, echo = true, max_tokens = 0, logprobs = 5, return_tokens_as_token_ids = true,
        });
        Assert.Equal(200, status);
        var choice = body.GetProperty("choices")[0];
        Assert.Equal(ServingTestKit.DecoderTokenizer.Decode(ids), choice.GetProperty("text").GetString());
        var lp = choice.GetProperty("logprobs");
        Assert.Equal(ids, lp.GetProperty("tokens").EnumerateArray().Select(t => Id(t.GetString()!)));
        var chosen = lp.GetProperty("token_logprobs").EnumerateArray().ToList();
        var tops = lp.GetProperty("top_logprobs").EnumerateArray().ToList();
        Assert.Equal(JsonValueKind.Null, chosen[0].ValueKind);
        Assert.Equal(JsonValueKind.Null, tops[0].ValueKind);
        Assert.Equal(ids.Length, body.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(0, body.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        using var reference = Decoder();
        var logits = reference.Logits(ids);
        int v = reference.Config.VocabSize;
        for (int t = 1; t < ids.Length; t++)
        {
            var row = logits.AsSpan((t - 1) * v, v).ToArray();
            double max = row.Max(x => (double)x), logZ = max + Math.Log(row.Sum(x => Math.Exp(x - max)));
            Assert.Equal(row[ids[t]] - logZ, chosen[t].GetSingle(), 5);
            var top = tops[t].EnumerateObject().Select(p => (Id: Id(p.Name), Logprob: p.Value.GetSingle())).ToList();
            int[] expected = Enumerable.Range(0, v).OrderByDescending(i => row[i]).ThenBy(i => i).Take(5).ToArray();
            Assert.Equal(expected, top.Select(p => p.Id));
            for (int j = 0; j < 5; j++) Assert.Equal(row[expected[j]] - logZ, top[j].Logprob, 5);
        }
    }

    [Fact]
    public async Task EchoWithGenerationPutsThePromptFirstAndScoresItsTokensOnly()
    {
        int[] ids = [.. ServingTestKit.DecoderTokenizer.Encode("a small", false)];
        var (_, plain) = await PostAsync(_client, "/v1/completions", new { prompt = ids, max_tokens = 3, temperature = 0, logprobs = 1 });
        var (status, echoed) = await PostAsync(_client, "/v1/completions", new { prompt = ids, max_tokens = 3, temperature = 0, logprobs = 1, echo = true });
        Assert.Equal(200, status);
        var p = plain.GetProperty("choices")[0];
        var e = echoed.GetProperty("choices")[0];
        Assert.Equal(ServingTestKit.DecoderTokenizer.Decode(ids) + p.GetProperty("text").GetString(), e.GetProperty("text").GetString());
        var plainLp = p.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().Select(x => x.GetSingle()).ToList();
        var echoLp = e.GetProperty("logprobs").GetProperty("token_logprobs").EnumerateArray().ToList();
        Assert.Equal(ids.Length + plainLp.Count, echoLp.Count);
        Assert.Equal(plainLp, echoLp.Skip(ids.Length).Select(x => x.GetSingle()));
        var offsets = e.GetProperty("logprobs").GetProperty("text_offset").EnumerateArray().Select(x => x.GetInt32()).ToList();
        Assert.Equal(0, offsets[0]);
        Assert.Equal(ServingTestKit.DecoderTokenizer.Decode(ids).Length, offsets[ids.Length]);
    }

    [Fact]
    public async Task MaxTokensZeroWithoutEchoIsRefusedWithOneLineOfJson()
    {
        var response = await _client.PostAsync("/v1/completions", new StringContent("{\"prompt\": [5, 6], \"max_tokens\": 0}", System.Text.Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        Assert.Equal(422, (int)response.StatusCode);
        Assert.DoesNotContain('\n', text.TrimEnd());
        Assert.Contains("0 only with echo", JsonDocument.Parse(text).RootElement.GetProperty("error").GetProperty("message").GetString());
    }
}

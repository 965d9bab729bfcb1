using System.ClientModel;
using DistillSharp.Serving;
using DistillSharp.Serving.InProcess;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Embeddings;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>/v1/embeddings through the official OpenAI .NET SDK and Microsoft.Extensions.AI, /embed in TEI's shape, and in-process use.</summary>
public sealed class EmbeddingEndpointTests : IAsyncLifetime
{
    ServingServer _server = null!;
    float[][] _expected = null!;

    public async Task InitializeAsync()
    {
        using var reference = Encoder();
        _expected = reference.Embed(Texts);
        _server = await StartEncoder();
    }

    public Task DisposeAsync() => StopAsync(_server);

    EmbeddingClient OpenAiClient() =>
        new("tiny-int8", new ApiKeyCredential("unused"), new OpenAIClientOptions { Endpoint = new Uri(_server.BaseAddress, "v1") });

    [Fact]
    public async Task OpenAiSdkGetsTheRuntimesVectors()
    {
        var result = await OpenAiClient().GenerateEmbeddingsAsync(Texts);  // the SDK asks for base64
        Assert.Equal(Texts.Length, result.Value.Count);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(i, result.Value[i].Index);
            Assert.Equal(_expected[i], result.Value[i].ToFloats().ToArray());
        }
        int tokens = Texts.Sum(t => _server.Encoder!.Tokenizer.Encode(t).Length);
        Assert.Equal(tokens, result.Value.Usage.InputTokenCount);
        Assert.Equal(tokens, result.Value.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task DimensionsCutAndRenormalise()
    {
        var result = await OpenAiClient().GenerateEmbeddingAsync(Texts[2], new OpenAI.Embeddings.EmbeddingGenerationOptions { Dimensions = 8 });
        var v = result.Value.ToFloats().ToArray();
        Assert.Equal(8, v.Length);
        Assert.Equal(1.0, Norm(v), 5);
        var cut = _expected[2][..8];
        double scale = 1 / Norm(cut);
        for (int j = 0; j < 8; j++) Assert.Equal(cut[j] * scale, v[j], 5);
    }

    [Fact]
    public async Task ExtensionsAiAdapterAndInProcessGeneratorAgree()
    {
        IEmbeddingGenerator<string, Embedding<float>> http = OpenAiClient().AsIEmbeddingGenerator();
        using var inProcess = new RuntimeEmbeddingGenerator(_server.Encoder!);
        var a = await http.GenerateAsync(Texts);
        var b = await inProcess.GenerateAsync(Texts);
        for (int i = 0; i < Texts.Length; i++)
        {
            Assert.Equal(_expected[i], a[i].Vector.ToArray());
            Assert.Equal(_expected[i], b[i].Vector.ToArray());
        }
        Assert.Equal(a.Usage?.InputTokenCount, b.Usage?.InputTokenCount);
        var metadata = inProcess.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal(32, metadata?.DefaultModelDimensions);
        Assert.Equal("tiny-int8", metadata?.DefaultModelId);
    }

    [Fact]
    public async Task FloatFormatAndTokenIdInputs()
    {
        using var client = Client(_server);
        var (status, body) = await PostAsync(client, "/v1/embeddings", new { input = Texts[0], encoding_format = "float", model = "mine" });
        Assert.Equal(200, status);
        Assert.Equal("list", body.GetProperty("object").GetString());
        Assert.Equal("mine", body.GetProperty("model").GetString());
        Assert.Equal(_expected[0], Floats(body.GetProperty("data")[0].GetProperty("embedding")));
        int[] ids = _server.Encoder!.Tokenizer.Encode(Texts[1]);
        (status, body) = await PostAsync(client, "/v1/embeddings", new { input = ids });
        Assert.Equal(200, status);
        Assert.Equal(_expected[1], Floats(body.GetProperty("data")[0].GetProperty("embedding")));
        (status, body) = await PostAsync(client, "/v1/embeddings", new { input = new[] { ids, _server.Encoder.Tokenizer.Encode(Texts[3]) } });
        Assert.Equal(200, status);
        Assert.Equal(_expected[3], Floats(body.GetProperty("data")[1].GetProperty("embedding")));
    }

    [Fact]
    public async Task TeiEmbedNormalizesOnRequestAndTruncates()
    {
        using var client = Client(_server);
        var (status, body) = await PostAsync(client, "/embed", new { inputs = Texts[0] });
        Assert.Equal(200, status);
        Assert.Equal(JsonValueKindArrayOfArrays, body[0].ValueKind);
        Assert.Equal(_expected[0], Floats(body[0]));
        (status, body) = await PostAsync(client, "/embed", new { inputs = new[] { Texts[0], Texts[2] }, normalize = false });
        Assert.Equal(200, status);
        var raw = Floats(body[1]);
        Assert.NotEqual(1.0, Norm(raw), 3);
        double n = Norm(raw);
        for (int j = 0; j < raw.Length; j++) Assert.Equal(_expected[2][j], raw[j] / n, 5);
        string longText = string.Join(" ", Enumerable.Repeat("the cat", 40));
        (status, _) = await PostAsync(client, "/embed", new { inputs = longText });
        Assert.Equal(413, status);
        (status, body) = await PostAsync(client, "/embed", new { inputs = longText, truncate = true });
        Assert.Equal(200, status);
        Assert.Equal(32, Floats(body[0]).Length);
        Assert.True(int.Parse(await TokensHeader(client, longText)) == 32);
    }

    const System.Text.Json.JsonValueKind JsonValueKindArrayOfArrays = System.Text.Json.JsonValueKind.Array;

    static async Task<string> TokensHeader(HttpClient client, string text)
    {
        using var response = await client.PostAsync("/embed", new StringContent(System.Text.Json.JsonSerializer.Serialize(new { inputs = text, truncate = true })));
        foreach (string h in new[] { "x-queue-time", "x-inference-time", "x-total-time" }) Assert.True(response.Headers.Contains(h), h);
        return response.Headers.GetValues("x-compute-tokens").Single();
    }

    [Fact]
    public async Task HealthInfoAndMetrics()
    {
        using var client = Client(_server);
        var health = await client.GetStringAsync("/health");
        Assert.Contains("\"status\":\"ok\"", health);
        var info = await client.GetStringAsync("/info");
        Assert.Contains("\"max_input_length\":32", info);
        await PostAsync(client, "/embed", new { inputs = Texts });
        await PostAsync(client, "/embed", new { inputs = 5 });
        string metrics = await client.GetStringAsync("/metrics");
        foreach (string name in new[] { "distill_requests_total{endpoint=\"/embed\",status=\"200\"}", "distill_requests_total{endpoint=\"/embed\",status=\"422\"}",
                     "distill_request_duration_seconds_bucket", "distill_batch_size_bucket", "distill_queue_depth", "distill_tokens_total{kind=\"input\"}" })
            Assert.Contains(name, metrics);
    }
}

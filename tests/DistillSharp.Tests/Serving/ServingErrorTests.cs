using System.Text;
using System.Text.Json;
using DistillSharp.Serving;
using DistillSharp.Serving.Batching;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>Every error the server answers: status, JSON body {"error": {"message", "type", "code"}}, never a 500 for bad input.</summary>
public sealed class ServingErrorTests : IAsyncLifetime
{
    ServingServer _server = null!;
    HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await StartEncoder(new ServerOptions(MaxInputs: 4, MaxBodyBytes: 4096, Batching: new BatchingOptions(MaxQueue: 8)));
        _client = Client(_server);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await StopAsync(_server);
    }

    public static TheoryData<string, string, int, string> BadRequests => new()
    {
        { "/v1/embeddings", "{\"input\": ", 422, "not valid JSON" },
        { "/v1/embeddings", "[1, 2]", 422, "not valid JSON" },
        { "/v1/embeddings", "{}", 422, "'input' is required" },
        { "/v1/embeddings", "{\"input\": []}", 422, "empty array" },
        { "/v1/embeddings", "{\"input\": {\"a\": 1}}", 422, "got an object" },
        { "/v1/embeddings", "{\"input\": [\"a\", 3]}", 422, "'input[1]' must be a string" },
        { "/v1/embeddings", "{\"input\": [5, 1.5]}", 422, "integer token id" },
        { "/v1/embeddings", "{\"input\": [5, 9999]}", 422, "outside the vocabulary" },
        { "/v1/embeddings", "{\"input\": [[]]}", 422, "empty token list" },
        { "/v1/embeddings", "{\"input\": \"a\", \"encoding_format\": \"int8\"}", 422, "encoding_format" },
        { "/v1/embeddings", "{\"input\": \"a\", \"dimensions\": 0}", 422, "dimensions must be in [1, 32]" },
        { "/v1/embeddings", "{\"input\": \"a\", \"dimensions\": 33}", 422, "dimensions must be in [1, 32]" },
        { "/v1/embeddings", "{\"input\": \"a\", \"dimensions\": \"8\"}", 422, "$.dimensions" },
        { "/v1/embeddings", "{\"input\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", 413, "at most 4" },
        { "/embed", "{\"inputs\": \"the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat the cat\"}", 413, "truncate: true" },
        { "/embed", "{\"inputs\": \"a\", \"truncation_direction\": \"left\"}", 422, "truncation_direction" },
        { "/embed", "{\"inputs\": \"a\", \"normalize\": \"yes\"}", 422, "$.normalize" },
        { "/predict", "{\"inputs\": \"a\"}", 400, "not a classifier" },
        { "/v1/completions", "{\"prompt\": \"a\"}", 400, "needs a decoder" },
        { "/v1/chat/completions", "{\"messages\": []}", 400, "needs a decoder" },
        { "/nowhere", "{}", 404, "no endpoint POST /nowhere" },
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task BadInputGetsItsStatusAndAJsonError(string path, string json, int status, string message)
    {
        var (code, body) = await PostAsync(_client, path, json);
        Assert.Equal(status, code);
        var error = body.GetProperty("error");
        Assert.Contains(message, error.GetProperty("message").GetString());
        Assert.Equal(status, error.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task OversizedBodyIs413()
    {
        string json = JsonSerializer.Serialize(new { input = new string('a', 5000) });
        var (code, body) = await PostAsync(_client, "/v1/embeddings", json);
        Assert.Equal(413, code);
        Assert.Equal("request_too_large", body.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task ErrorsAreCountedByStatus()
    {
        await PostAsync(_client, "/v1/embeddings", "{}");
        string metrics = await _client.GetStringAsync("/metrics");
        Assert.Contains("distill_requests_total{endpoint=\"/v1/embeddings\",status=\"422\"}", metrics);
        Assert.DoesNotContain("status=\"500\"", metrics);
    }
}

/// <summary>429 when the queue is full, and a disconnecting client leaves the queue.</summary>
public sealed class ServingQueueTests
{
    [Fact]
    public async Task FullQueueAnswers429AndRecovers()
    {
        GatedBackend? gated = null;
        var server = await StartEncoder(new ServerOptions(MaxInputs: 2, Batching: new BatchingOptions(MaxBatchTokens: 16, MaxWaitMs: 0, MaxQueue: 2)),
            b => gated = new GatedBackend(b));
        try
        {
            using var client = Client(server);
            gated!.Gate.Reset();
            var first = PostAsync(client, "/embed", new { inputs = "the cat" });              // runs, blocked in the model
            await WaitUntil(() => gated.Entered == 2);                                           // warm-up + first
            var queued = PostAsync(client, "/embed", new { inputs = new[] { "a dog", "a bird" } }); // fills the queue (2)
            await WaitUntil(() => server.Encoder!.QueuedRows == 2);
            var (status, body) = await PostAsync(client, "/embed", new { inputs = "fish" });
            Assert.Equal(429, status);
            Assert.Equal("overloaded", body.GetProperty("error").GetProperty("type").GetString());
            gated.Gate.Set();
            Assert.Equal(200, (await first).Status);
            Assert.Equal(200, (await queued).Status);
            Assert.Equal(200, (await PostAsync(client, "/embed", new { inputs = "fish" })).Status);
            Assert.Contains("status=\"429\"", await client.GetStringAsync("/metrics"));
        }
        finally
        {
            gated?.Gate.Set();
            await StopAsync(server);
        }
    }

    [Fact]
    public async Task AClientThatDisconnectsIsDroppedFromTheQueue()
    {
        GatedBackend? gated = null;
        var server = await StartEncoder(new ServerOptions(Batching: new BatchingOptions(MaxBatchTokens: 8, MaxWaitMs: 0)), b => gated = new GatedBackend(b));
        try
        {
            using var client = Client(server);
            gated!.Gate.Reset();
            var running = PostAsync(client, "/embed", new { inputs = "the cat" });
            await WaitUntil(() => gated.Entered == 2);
            using var leaving = new CancellationTokenSource();
            var request = client.PostAsync("/embed", new StringContent("{\"inputs\": [\"a dog\", \"a bird\", \"fish\"]}", Encoding.UTF8, "application/json"), leaving.Token);
            await WaitUntil(() => server.Encoder!.QueuedRows == 3);
            leaving.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
            await WaitUntil(() => server.Encoder!.QueuedRows == 0);
            gated.Gate.Set();
            Assert.Equal(200, (await running).Status);
            Assert.Equal(200, (await PostAsync(client, "/embed", new { inputs = "fish" })).Status);
            lock (gated.BatchSizes) Assert.Equal([1, 1], gated.BatchSizes.Skip(1));   // warm-up, "the cat", "fish": the 3 dropped rows never ran
            Assert.Contains("status=\"499\"", await client.GetStringAsync("/metrics"));
        }
        finally
        {
            gated?.Gate.Set();
            await StopAsync(server);
        }
    }

    static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached in 10 s");
            await Task.Delay(5);
        }
    }
}

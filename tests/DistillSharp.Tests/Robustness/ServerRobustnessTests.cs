using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace DistillSharp.Tests.Robustness;

/// <summary>
/// `distill serve` as a hostile world uses it, in a child process: every generated bad request gets
/// a 4xx (never a 5xx or a dropped connection), slow clients do not starve others, twice the
/// sustainable rate gets 429s rather than unbounded queues, memory stays bounded, and SIGTERM still
/// stops the server cleanly (exit 0).
/// </summary>
public sealed class ServerRobustnessTests(RobustnessModels models, ITestOutputHelper output) : IClassFixture<RobustnessModels>
{
    const long MaxServerRss = 700_000_000;

    static HttpClient Client(ServeChild server) => new() { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    static async Task<(int Status, double Seconds)> SendAsync(HttpClient client, HostileRequest r)
    {
        var (status, seconds, _) = await SendReadAsync(client, r);
        return (status, seconds);
    }

    static async Task<(int Status, double Seconds, string Body)> SendReadAsync(HttpClient client, HostileRequest r)
    {
        var clock = Stopwatch.StartNew();
        using var message = new HttpRequestMessage(new HttpMethod(r.Method), r.Path);
        // A body past the server's limit is answered 413 before it is sent (a client that sends it anyway has its upload cut).
        message.Headers.ExpectContinue = r.Body.Length > 1 << 20;
        if (r.Method != "GET")
        {
            message.Content = new ByteArrayContent(r.Body);
            message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(r.ContentType);
        }
        using var response = await client.SendAsync(message);
        string body = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, clock.Elapsed.TotalSeconds, body);
    }

    // Null when the body is the OpenAI error object with one non-empty line of message and no stack trace.
    static string? ErrorBodyProblem(string body)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            string message = doc.RootElement.GetProperty("error").GetProperty("message").GetString() ?? "";
            if (message.Trim().Length == 0) return "an empty error message";
            if (message.Contains('\n')) return $"a message of several lines: {message}";
            if (message.Contains(" at ", StringComparison.Ordinal) && message.Contains("()", StringComparison.Ordinal) || message.Contains("Exception", StringComparison.Ordinal))
                return $"a stack trace or exception name: {message}";
            return null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return $"not an error object: {(body.Length > 200 ? body[..200] : body)}";
        }
    }

    async Task AllGet4xx(ServeChild server, IReadOnlyList<HostileRequest> requests)
    {
        using var client = Client(server);
        var failures = new List<string>();
        double slowest = 0;
        foreach (var r in requests)
        {
            try
            {
                var (status, seconds, body) = await SendReadAsync(client, r);
                slowest = Math.Max(slowest, seconds);
                if (status is < 400 or >= 500) failures.Add($"{r}: status {status}");
                else if (ErrorBodyProblem(body) is { } problem) failures.Add($"{r}: status {status} with {problem}");
                else output.WriteLine($"{status} {r}: {System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("error").GetProperty("message").GetString()}");
            }
            catch (HttpRequestException e)
            {
                failures.Add($"{r}: no answer ({e.Message})");
            }
        }
        var (health, _) = await SendAsync(client, new HostileRequest("health", "GET", "/health", []));
        output.WriteLine($"{requests.Count} requests, slowest {slowest:F2} s, server peak RSS {server.PeakRssBytes / 1e6:F0} MB");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(200, health);
        Assert.True(slowest < 10, $"a bad request took {slowest:F1} s");
        Assert.True(server.PeakRssBytes < MaxServerRss, $"server peak RSS {server.PeakRssBytes / 1e6:F0} MB");
        Assert.Equal(0, server.Stop(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task EncoderServerAnswersEveryHostileRequestWithA4xx()
    {
        using var server = ServeChild.Start(models.Int8Dir, "--max-inputs", "16", "--max-queue", "32");
        await AllGet4xx(server, HostileRequests.Encoder().ToList());
    }

    [Fact]
    public async Task DecoderServerAnswersEveryHostileRequestWithA4xx()
    {
        using var server = ServeChild.Start(models.DecoderInt8Dir, "--max-queue", "32", "--max-inputs", "16");
        await AllGet4xx(server, HostileRequests.Decoder().ToList());
    }

    [Fact]
    public async Task SlowClientsAndTwiceTheSustainableRateGetAnswersNotCrashes()
    {
        using var server = ServeChild.Start(models.Int8Dir, "--max-queue", "16", "--max-inputs", "16");
        using var client = Client(server);
        var ok = new HostileRequest("one text", "POST", "/v1/embeddings", Encoding.UTF8.GetBytes("{\"input\": \"the cat sat on the mat\"}"));

        // 48 clients that send their headers and then a byte of body now and then hold connections open.
        var slow = Enumerable.Range(0, 48).Select(_ => SlowClientAsync(server.BaseAddress, TimeSpan.FromSeconds(4))).ToList();
        var during = new List<double>();
        for (int i = 0; i < 10; i++)
        {
            var (status, seconds) = await SendAsync(client, ok);
            Assert.Equal(200, status);
            during.Add(seconds);
        }
        await Task.WhenAll(slow);
        Assert.True(during.Max() < 5, $"with slow clients connected a request took {during.Max():F1} s");

        // The sustainable rate, sequentially; then twice it, open loop, for three seconds.
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < 30; i++) Assert.Equal(200, (await SendAsync(client, ok)).Status);
        double rate = 30 / clock.Elapsed.TotalSeconds;
        var statuses = new List<Task<(int Status, double Seconds)>>();
        clock.Restart();
        for (int i = 0; clock.Elapsed.TotalSeconds < 3; i++)
        {
            statuses.Add(SendAsync(client, ok));
            double due = (i + 1) / (2 * rate);
            if (due > clock.Elapsed.TotalSeconds) await Task.Delay(TimeSpan.FromSeconds(due - clock.Elapsed.TotalSeconds));
        }
        // And a burst of 400 at once, far past the queue.
        statuses.AddRange(Enumerable.Range(0, 400).Select(_ => SendAsync(client, ok)));
        var done = await Task.WhenAll(statuses);
        var counts = done.GroupBy(d => d.Status).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"sustainable {rate:F0} req/s; at 2× and in the burst: {string.Join(", ", counts.Select(kv => $"{kv.Key} × {kv.Value}"))}; " +
                         $"slowest {done.Max(d => d.Seconds):F2} s; server peak RSS {server.PeakRssBytes / 1e6:F0} MB");
        Assert.True(counts.Keys.All(s => s is 200 or 429), string.Join(", ", counts.Keys));
        Assert.True(counts.GetValueOrDefault(429) > 0, "the burst past --max-queue got no 429");
        Assert.True(server.Running);
        Assert.True(server.PeakRssBytes < MaxServerRss, $"server peak RSS {server.PeakRssBytes / 1e6:F0} MB");
        Assert.Equal(200, (await SendAsync(client, ok)).Status);
        Assert.Equal(0, server.Stop(TimeSpan.FromSeconds(20)));
    }

    // Sends a request line, headers promising a large body, then one body byte a second until `hold` ends.
    static async Task SlowClientAsync(Uri address, TimeSpan hold)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        var clock = Stopwatch.StartNew();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"POST /v1/embeddings HTTP/1.1\r\nHost: {address.Host}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{"));
            while (clock.Elapsed < hold)
            {
                await Task.Delay(1000);
                await stream.WriteAsync("\""u8.ToArray());
            }
        }
        catch (IOException)
        {
            // The server may close a client this slow: that is the point.
        }
    }
}

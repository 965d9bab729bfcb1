using DistillSharp.Data.Decoder.Traces;
using DistillSharp.Runtime;
using DistillSharp.Serving;
using DistillSharp.Serving.Generation;
using DistillSharp.Tests.Serving;

namespace DistillSharp.Tests.Data.Traces;

/// <summary>
/// The trace collector against a real <c>distill serve</c> (Kestrel on loopback, tiny INT8 decoder):
/// 429s, 503s, dropped connections before and after the server answered, a server restart, and
/// kills at random moments — every time the store ends with exactly the uninterrupted answers, none twice.
/// </summary>
public sealed class TraceCollectorTests
{
    static readonly TraceSampling Sampling = new(MaxTokens: 6, Temperature: 1, TopLogprobs: 3, Seed: 5);
    static readonly CollectLimits Fast = new(Concurrency: 3, TimeoutSeconds: 20, Retries: 20, BackoffSeconds: 0.02, MaxBackoffSeconds: 0.2);

    static List<TracePrompt> Prompts(int n) =>
        Enumerable.Range(0, n).Select(i => new TracePrompt($"{ServingTestKit.Texts[i % ServingTestKit.Texts.Length]} {i}")).ToList();

    static string TempFile() => Path.Combine(Path.GetTempPath(), "ds-traces-" + Guid.NewGuid().ToString("N")[..8], "traces.jsonl");

    /// <summary>key → (text, tokens) of a store: what must match between interrupted and uninterrupted collections.</summary>
    static Dictionary<string, string> Content(TraceStore store) =>
        store.All().ToDictionary(t => t.Key, t => t.Text + "\u0001" + string.Join(",", t.Tokens!) + "\u0001" + string.Join(",", t.TokenLogprobs!));

    static async Task<Dictionary<string, string>> Reference(ServingServer server, EndpointTeacher teacher, IReadOnlyList<TracePrompt> prompts)
    {
        string file = TempFile();
        try
        {
            using var store = new TraceStore(file);
            using var client = new EndpointClient(teacher with { Endpoint = server.BaseAddress + "v1" }, Fast);
            var r = await TraceCollector.CollectAsync(client, store, teacher, TraceApi.Completions, prompts, Sampling, 3);
            Assert.Equal((prompts.Count, 0, 0), (r.Collected, r.Failed, (int)r.Retries));
            return Content(store);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Fact]
    public async Task ThrottlingErrorsAndDroppedConnectionsLoseNothingAndDuplicateNothing()
    {
        var server = await ServingTestKit.StartDecoder();
        string file = TempFile();
        try
        {
            var teacher = new EndpointTeacher(server.BaseAddress + "v1", "tiny-lm-int8");
            var prompts = Prompts(16);
            var expected = await Reference(server, teacher, prompts);
            // Request n: 429 every 3rd, 503 every 5th, dropped before the server every 7th, dropped after it answered every 4th.
            Fault Schedule(int n) => n % 3 == 0 ? Fault.Throttle : n % 5 == 0 ? Fault.Unavailable : n % 7 == 0 ? Fault.Drop : n % 4 == 0 ? Fault.DropAnswer : Fault.None;
            await using var proxy = await FaultProxy.StartAsync(server.BaseAddress, Schedule);
            using var store = new TraceStore(file);
            using var client = new EndpointClient(teacher with { Endpoint = proxy.Endpoint }, Fast);
            var r = await TraceCollector.CollectAsync(client, store, teacher, TraceApi.Completions, prompts, Sampling, 3);
            Assert.Equal((16, 0), (r.Collected, r.Failed));
            Assert.True(r.Throttled > 0 && r.ServerErrors > 0 && r.Dropped > 0, $"429 {r.Throttled}, 5xx {r.ServerErrors}, dropped {r.Dropped}");
            Assert.True(proxy.Forwarded > 16, $"the server answered {proxy.Forwarded} times: some answers were lost on the way and asked again");
            Assert.Equal(expected, Content(store));
            Assert.Equal(16, File.ReadAllLines(file).Length);
            Assert.Equal(store.Count, File.ReadAllLines(file).Distinct().Count());
        }
        finally
        {
            await ServingTestKit.StopAsync(server);
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Fact]
    public async Task AServerRestartMidCollectionIsRetriedThrough()
    {
        var server = await ServingTestKit.StartDecoder();
        int port = server.BaseAddress.Port;
        string file = TempFile();
        try
        {
            var teacher = new EndpointTeacher(server.BaseAddress + "v1", "tiny-lm-int8");
            var prompts = Prompts(14);
            var expected = await Reference(server, teacher, prompts);
            using var store = new TraceStore(file);
            using var client = new EndpointClient(teacher, Fast);
            var restarted = new TaskCompletionSource();
            var collect = TraceCollector.CollectAsync(client, store, teacher, TraceApi.Completions, prompts, Sampling, 2, (done, _) =>
            {
                if (done == 4) restarted.TrySetResult();
            });
            await restarted.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await ServingTestKit.StopAsync(server);
            await Task.Delay(300);                                           // the port refuses connections for a while
            var model = new ServedModel("tiny-lm-int8", Completion: new Int8CompletionBackend(ServingTestKit.Decoder(), ServingTestKit.DecoderTokenizer));
            server = await ServingServer.StartAsync(model, new ServerOptions { Port = port });
            var r = await collect.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Equal(0, r.Failed);
            Assert.True(r.Dropped + r.ServerErrors > 0, "the restart went unnoticed: the test did not test it");
            Assert.Equal(expected, Content(store));
            Assert.Equal(14, File.ReadAllLines(file).Length);
        }
        finally
        {
            await ServingTestKit.StopAsync(server);
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Fact]
    public async Task KilledThreeTimesAtRandomMomentsItFinishesWithTheUninterruptedResults()
    {
        var server = await ServingTestKit.StartDecoder();
        string file = TempFile();
        try
        {
            var teacher = new EndpointTeacher(server.BaseAddress + "v1", "tiny-lm-int8");
            var prompts = Prompts(24);
            var expected = await Reference(server, teacher, prompts);
            var rng = new SplitMix64(2026);
            int asked = 0;
            for (int kill = 0; kill < 3; kill++)
            {
                int stopAfter = 1 + rng.NextInt(4);                         // at most 4 + 2 in flight per kill: 3 kills leave some to ask
                using var cancel = new CancellationTokenSource();
                using (var store = new TraceStore(file))
                using (var client = new EndpointClient(teacher, Fast))
                {
                    int before = store.Count, seen = 0;
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TraceCollector.CollectAsync(client, store, teacher, TraceApi.Completions,
                        prompts, Sampling, 3, (_, _) =>
                        {
                            if (++seen > stopAfter) cancel.Cancel();
                        }, cancel.Token));
                    asked += store.Count - before;
                }
                // The kill also tore the record being written: half a line at the end of the file.
                File.AppendAllText(file, "{\"key\":\"torn-" + kill + "\",\"prompt\":\"half a rec");
                using var reopened = new TraceStore(file);
                Assert.True(reopened.TornBytes > 0);
                Assert.DoesNotContain(reopened.All(), t => t.Key.StartsWith("torn", StringComparison.Ordinal));
            }
            using (var store = new TraceStore(file))
            using (var client = new EndpointClient(teacher, Fast))
            {
                int stored = store.Count;
                Assert.InRange(stored, 3, 23);
                var r = await TraceCollector.CollectAsync(client, store, teacher, TraceApi.Completions, prompts, Sampling, 3);
                Assert.Equal((stored, 24 - stored), (r.Cached, r.Collected));   // never asked twice
                Assert.Equal(expected, Content(store));
            }
            Assert.Equal(24, File.ReadAllLines(file).Length);
        }
        finally
        {
            await ServingTestKit.StopAsync(server);
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }

    [Fact]
    public async Task ARefusedRequestFailsAtOnceAndIsNotStored()
    {
        var server = await ServingTestKit.StartDecoder();
        string file = TempFile();
        try
        {
            var teacher = new EndpointTeacher(server.BaseAddress + "v1", "tiny-lm-int8");
            using var store = new TraceStore(file);
            using var client = new EndpointClient(teacher, Fast);
            var tooMany = Sampling with { TopLogprobs = 9 };                  // the completions route allows at most 5 → 422
            var r = await TraceCollector.CollectAsync(client, store, teacher, TraceApi.Completions, Prompts(2), tooMany, 2);
            Assert.Equal((0, 2, 2L, 0L), (r.Collected, r.Failed, r.Attempts, r.Retries));
            Assert.Contains("HTTP 422", r.FirstError);
            Assert.Equal(0, store.Count);
        }
        finally
        {
            await ServingTestKit.StopAsync(server);
            Directory.Delete(Path.GetDirectoryName(file)!, true);
        }
    }
}

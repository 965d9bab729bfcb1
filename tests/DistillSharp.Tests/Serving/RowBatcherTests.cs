using System.Diagnostics;
using DistillSharp.Serving;
using DistillSharp.Serving.Batching;
using DistillSharp.Serving.Http;
using DistillSharp.Serving.Metrics;
using static DistillSharp.Tests.Serving.ServingTestKit;

namespace DistillSharp.Tests.Serving;

/// <summary>The batching queue: own rows back, token budget, length grouping, max wait, cancellation, failures.</summary>
public sealed class RowBatcherTests
{
    // A model whose output identifies its input: [sum of ids, length, first id]; calls wait for Gate.
    sealed class FakeModel
    {
        public readonly ManualResetEventSlim Gate = new(true);
        public readonly List<int[]> Batches = [];
        public int Entered;

        public float[][] Run(IReadOnlyList<int[]> rows)
        {
            Interlocked.Increment(ref Entered);
            Gate.Wait(TimeSpan.FromSeconds(10));
            lock (Batches) Batches.Add(rows.Select(r => r.Length).ToArray());
            if (rows.Any(r => r[0] < 0)) throw new InvalidOperationException("negative id");
            return rows.Select(Expected).ToArray();
        }

        public static float[] Expected(int[] r) => [r.Sum(), r.Length, r[0]];
    }

    static int[] Seq(int length, int start = 1) => Enumerable.Range(start, length).ToArray();

    static async Task Until(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException();
            await Task.Delay(2);
        }
    }

    [Fact]
    public async Task ConcurrentCallersGetExactlyTheirOwnRows()
    {
        var model = new FakeModel();
        using var batcher = new RowBatcher("t", model.Run, padded: false, new BatchingOptions(MaxBatchTokens: 64, MaxWaitMs: 1), new ServingMetrics());
        var rng = new Random(5);
        var requests = Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, 1 + i % 4).Select(_ => Seq(rng.Next(1, 12), rng.Next(100))).ToArray()).ToList();
        var results = await Task.WhenAll(requests.Select(r => Task.Run(() => batcher.SubmitAsync(r))));
        for (int i = 0; i < requests.Count; i++)
            Assert.Equal(requests[i].Select(FakeModel.Expected), results[i].Rows);
        Assert.All(model.Batches, b => Assert.True(b.Sum() <= 64 || b.Length == 1));
    }

    [Fact]
    public async Task PackedBatchesFillTheTokenBudgetInArrivalOrder()
    {
        var model = new FakeModel();
        using var batcher = new RowBatcher("t", model.Run, padded: false, new BatchingOptions(MaxBatchTokens: 10, MaxWaitMs: 0), new ServingMetrics());
        model.Gate.Reset();
        var blocker = batcher.SubmitAsync([Seq(1)]);
        await Until(() => model.Entered == 1);
        var rest = batcher.SubmitAsync([Seq(5), Seq(6), Seq(5), Seq(4), Seq(3)]);
        model.Gate.Set();
        await Task.WhenAll(blocker, rest);
        Assert.Equal([[1], [5, 5], [6, 4], [3]], model.Batches);   // 6 skips past the budget; 4 fills after it
    }

    [Fact]
    public async Task PaddedBatchesGroupSimilarLengths()
    {
        var model = new FakeModel();
        using var batcher = new RowBatcher("t", model.Run, padded: true, new BatchingOptions(MaxBatchTokens: 20, MaxWaitMs: 0), new ServingMetrics());
        model.Gate.Reset();
        var blocker = batcher.SubmitAsync([Seq(1)]);
        await Until(() => model.Entered == 1);
        var rest = batcher.SubmitAsync([Seq(10), Seq(2), Seq(9), Seq(3)]);
        model.Gate.Set();
        await Task.WhenAll(blocker, rest);
        Assert.Equal([[1], [10, 9], [2, 3]], model.Batches);       // 2 × 10 padded tokens, then 2 × 3
    }

    [Fact]
    public async Task AWaitingRowWaitsAtMostMaxWait()
    {
        var model = new FakeModel();
        using var batcher = new RowBatcher("t", model.Run, padded: false, new BatchingOptions(MaxBatchTokens: 1000, MaxWaitMs: 60), new ServingMetrics());
        var clock = Stopwatch.StartNew();
        var r = await batcher.SubmitAsync([Seq(3)]);
        Assert.True(clock.ElapsedMilliseconds >= 55, $"ran after {clock.ElapsedMilliseconds} ms");
        Assert.True(r.QueueTime.TotalMilliseconds >= 55);
    }

    // A full token budget runs at once, without waiting MaxWait: with a 10 s MaxWait, a wait would show as
    // ≥ 10 s, far above any scheduling delay of a loaded machine (a 55 ms bound flaked at load 11).
    [Fact]
    public async Task AFullBudgetRunsWithoutWaiting()
    {
        var model = new FakeModel();
        using var batcher = new RowBatcher("t", model.Run, padded: false, new BatchingOptions(MaxBatchTokens: 1000, MaxWaitMs: 10_000), new ServingMetrics());
        var clock = Stopwatch.StartNew();
        await batcher.SubmitAsync(Enumerable.Range(0, 100).Select(_ => Seq(10)).ToArray());    // the budget is full at once
        Assert.True(clock.ElapsedMilliseconds < 5_000, $"a full budget waited {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task CancelledRequestsLeaveTheQueueAndFailuresReachOnlyTheirBatch()
    {
        var model = new FakeModel();
        var metrics = new ServingMetrics();
        using var batcher = new RowBatcher("t", model.Run, padded: false, new BatchingOptions(MaxBatchTokens: 4, MaxWaitMs: 0, MaxQueue: 3), metrics);
        model.Gate.Reset();
        var blocker = batcher.SubmitAsync([Seq(4)]);
        await Until(() => model.Entered == 1);
        using var cancel = new CancellationTokenSource();
        var leaving = batcher.SubmitAsync([Seq(2), Seq(2)], cancel.Token);
        var e = Assert.Throws<ServingException>(() => { _ = batcher.SubmitAsync([Seq(1), Seq(1)]); });   // 2 + 2 > 3: refused at once
        Assert.Equal(429, e.Status);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        Assert.Equal(0, batcher.QueuedRows);
        var failing = batcher.SubmitAsync([[-1]]);
        model.Gate.Set();
        await blocker;
        var failure = await Assert.ThrowsAsync<ServingException>(() => failing);
        Assert.Equal(500, failure.Status);
        var after = await batcher.SubmitAsync([Seq(2)]);
        Assert.Equal(new float[] { 3, 2, 1 }, after.Rows[0]);
        Assert.DoesNotContain(model.Batches, b => b.SequenceEqual([2, 2]));
    }

    [Fact]
    public async Task DisposingFailsWaitingRequestsWith503()
    {
        var model = new FakeModel();
        var batcher = new RowBatcher("t", model.Run, padded: false, new BatchingOptions(MaxBatchTokens: 4, MaxWaitMs: 0), new ServingMetrics());
        model.Gate.Reset();
        var running = batcher.SubmitAsync([Seq(4)]);
        await Until(() => model.Entered == 1);
        var waiting = batcher.SubmitAsync([Seq(4)]);
        var disposed = Task.Run(batcher.Dispose);
        await Until(() => waiting.IsCompleted);
        model.Gate.Set();
        await disposed;
        await running;
        Assert.Equal(503, (await Assert.ThrowsAsync<ServingException>(() => waiting)).Status);
    }

    [Fact]
    public async Task ConcurrentHttpCallersGetTheVectorsOfSingleRequests()
    {
        using var reference = Encoder();
        var expected = reference.Embed(Texts);
        GatedBackend? gated = null;
        var server = await StartEncoder(new ServerOptions(Batching: new BatchingOptions(MaxBatchTokens: 256, MaxWaitMs: 2)), b => gated = new GatedBackend(b));
        try
        {
            using var client = Client(server);
            gated!.Gate.Reset();
            var first = PostAsync(client, "/embed", new { inputs = Texts[0] });
            await Until(() => gated.Entered == 2);
            var calls = Enumerable.Range(0, 24).Select(i => PostAsync(client, "/v1/embeddings", new { input = Texts[i % Texts.Length], encoding_format = "float" })).ToList();
            await Until(() => server.Encoder!.QueuedRows == 24);
            gated.Gate.Set();
            Assert.Equal(expected[0], Floats((await first).Body[0]));
            for (int i = 0; i < calls.Count; i++)
            {
                var (status, body) = await calls[i];
                Assert.Equal(200, status);
                Assert.Equal(expected[i % Texts.Length], Floats(body.GetProperty("data")[0].GetProperty("embedding")));
            }
            lock (gated.BatchSizes) Assert.Contains(gated.BatchSizes, n => n > 1);
        }
        finally
        {
            gated?.Gate.Set();
            await StopAsync(server);
        }
    }
}

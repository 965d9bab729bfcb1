using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace DistillSharp.Serving.LoadTesting;

/// <summary>
/// An open-loop load generator: request i is scheduled at start + i / rate whatever the server does
/// (a slow server cannot slow the arrivals down and so hide its queueing — the coordinated-omission
/// trap of closed-loop tools), and its latency runs from that scheduled time to the last byte of
/// the response. Only loopback URLs are accepted.
/// </summary>
public static class LoadTest
{
    /// <summary>Texts used without <c>--texts</c>: short mail- and definition-like sentences.</summary>
    public static readonly IReadOnlyList<string> DefaultTexts =
    [
        "the cat sat on the mat and watched the birds in the garden all afternoon",
        "a small domesticated carnivorous mammal with soft fur, a short snout and retractable claws",
        "please find attached the invoice for last month; payment is due within thirty days",
        "congratulations, you have been selected to receive a free cruise, reply now to claim your prize",
        "the meeting has been moved to thursday at ten in the small conference room",
        "a large body of salt water that covers most of the earth's surface",
        "can you review the draft before friday so we can send it to the client",
        "the act of moving quickly on foot, faster than walking",
    ];

    /// <summary>Runs every rate of <paramref name="options"/> in turn; progress lines go to <paramref name="log"/>.</summary>
    public static async Task<LoadTestReport> RunAsync(LoadTestOptions options, TextWriter? log = null, CancellationToken cancel = default)
    {
        options.Validate();
        var texts = options.Texts ?? DefaultTexts;
        using var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        if (options.WarmupSeconds > 0)
        {
            log?.WriteLine($"warm-up: {options.Rates[0]} req/s for {options.WarmupSeconds} s");
            await RunOnceAsync(client, options, texts, options.Rates[0], options.WarmupSeconds, cancel).ConfigureAwait(false);
        }
        var runs = new List<LoadTestResult>();
        foreach (double rate in options.Rates)
        {
            var r = await RunOnceAsync(client, options, texts, rate, options.DurationSeconds, cancel).ConfigureAwait(false);
            string errors = r.Errors.Count > 0 ? ", errors " + string.Join(" ", r.Errors.Select(e => $"{e.Key}×{e.Value}")) : "";
            log?.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"rate {rate,8:F1}/s: ok {r.Ok}/{r.Sent}, {r.AchievedQps:F1} qps, p50 {r.P50Ms:F2} p90 {r.P90Ms:F2} p99 {r.P99Ms:F2} max {r.MaxMs:F2} ms{errors}"));
            runs.Add(r);
        }
        return new LoadTestReport(options.Url.ToString(), options.Concurrency, runs, LoadAverage());
    }

    static async Task<LoadTestResult> RunOnceAsync(HttpClient client, LoadTestOptions options, IReadOnlyList<string> texts, double rate,
        double duration, CancellationToken cancel)
    {
        int count = Math.Max(1, (int)Math.Round(rate * duration));
        var latencies = new ConcurrentBag<double>();
        var fromSend = new ConcurrentBag<double>();
        var errors = new ConcurrentDictionary<string, int>();
        var gate = new SemaphoreSlim(options.Concurrency);
        var bodies = texts.Select(t => Encoding.UTF8.GetBytes(Body(options.Url, t, options.MaxTokens))).ToArray();
        var inFlight = new List<Task>(count);
        long start = Stopwatch.GetTimestamp();
        double maxLate = 0;
        long lastDone = start;
        // The arrivals come from a dedicated thread that sleeps until each scheduled time (no spinning:
        // the server shares the machine's cores); its lateness is part of each request's latency.
        var dispatcher = new Thread(() =>
        {
            for (int i = 0; i < count && !cancel.IsCancellationRequested; i++)
            {
                long scheduled = start + (long)(i / rate * Stopwatch.Frequency);
                SleepUntil(scheduled);
                maxLate = Math.Max(maxLate, Stopwatch.GetElapsedTime(scheduled).TotalMilliseconds);
                var body = bodies[i % bodies.Length];
                inFlight.Add(Task.Run(() => SendAsync(scheduled, body)));
            }
        }) { IsBackground = true, Name = "loadtest-arrivals" };
        dispatcher.Start();
        await Task.Run(dispatcher.Join).ConfigureAwait(false);
        await Task.WhenAll(inFlight).ConfigureAwait(false);
        double elapsed = Math.Max(duration, Stopwatch.GetElapsedTime(start, Interlocked.Read(ref lastDone)).TotalSeconds);
        var sorted = latencies.Order().ToArray();
        var sends = fromSend.Order().ToArray();
        return new LoadTestResult(rate, duration, count, sorted.Length, sorted.Length / elapsed,
            Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.99), sorted.Length > 0 ? sorted[^1] : double.NaN,
            sorted.Length > 0 ? sorted.Average() : double.NaN, new SortedDictionary<string, int>(errors), maxLate,
            Percentile(sends, 0.50), Percentile(sends, 0.99));

        async Task SendAsync(long scheduled, byte[] body)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.TimeoutSeconds));
            bool entered = false;
            try
            {
                await gate.WaitAsync(timeout.Token).ConfigureAwait(false);
                entered = true;
                long sent = Stopwatch.GetTimestamp();
                using var content = new ByteArrayContent(body);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await client.PostAsync(options.Url, content, timeout.Token).ConfigureAwait(false);
                await response.Content.CopyToAsync(Stream.Null, timeout.Token).ConfigureAwait(false);
                long done = Stopwatch.GetTimestamp();
                InterlockedMax(ref lastDone, done);
                if (response.IsSuccessStatusCode)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(scheduled, done).TotalMilliseconds);
                    fromSend.Add(Stopwatch.GetElapsedTime(sent, done).TotalMilliseconds);
                }
                else errors.AddOrUpdate(((int)response.StatusCode).ToString(CultureInfo.InvariantCulture), 1, (_, n) => n + 1);
            }
            catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
            {
                errors.AddOrUpdate("timeout", 1, (_, n) => n + 1);
            }
            catch (HttpRequestException)
            {
                errors.AddOrUpdate("connection", 1, (_, n) => n + 1);
            }
            finally
            {
                if (entered) gate.Release();
            }
        }
    }

    static void InterlockedMax(ref long target, long value)
    {
        long seen;
        while ((seen = Interlocked.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    static void SleepUntil(long target)
    {
        while (true)
        {
            double ms = (target - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
            if (ms <= 0) return;
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Max(ms, 0.05)));
        }
    }

    /// <summary>Nearest-rank percentile of sorted values (NaN when empty).</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        int rank = (int)Math.Ceiling(q * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    /// <summary>
    /// The JSON body for <paramref name="url"/>'s endpoint: <c>/embed</c>, <c>/predict</c> →
    /// <c>{"inputs": text}</c>; <c>/v1/completions</c> → <c>{"prompt", "max_tokens", "temperature": 0}</c>;
    /// <c>/v1/chat/completions</c> → one user message; anything else (<c>/v1/embeddings</c>) → <c>{"input": text}</c>.
    /// </summary>
    public static string Body(Uri url, string text, int maxTokens = 16)
    {
        string path = url.AbsolutePath.TrimEnd('/');
        object body = path switch
        {
            _ when path.EndsWith("/embed") || path.EndsWith("/predict") => new { inputs = text },
            _ when path.EndsWith("/chat/completions") => new { messages = new[] { new { role = "user", content = text } }, max_tokens = maxTokens, temperature = 0 },
            _ when path.EndsWith("/completions") => new { prompt = text, max_tokens = maxTokens, temperature = 0 },
            _ => new { input = text },
        };
        return JsonSerializer.Serialize(body);
    }

    static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "";
        }
        catch (IOException)
        {
            return "";
        }
    }

    /// <summary>The report as indented JSON (snake_case).</summary>
    public static string ToJson(LoadTestReport report) =>
        JsonSerializer.Serialize(report, new JsonSerializerOptions(Http.ServingJson.Options) { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals });
}

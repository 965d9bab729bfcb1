namespace DistillSharp.Serving.LoadTesting;

/// <summary>What <c>distill loadtest</c> sends.</summary>
/// <param name="Url">Endpoint URL, e.g. <c>http://127.0.0.1:8080/v1/embeddings</c>; the path decides the body (see <see cref="LoadTest.Body"/>).</param>
/// <param name="Rates">Requests per second: one run per rate, in order (a sweep when several).</param>
/// <param name="DurationSeconds">Length of each run's arrivals.</param>
/// <param name="Concurrency">Most requests in flight (connections); an arrival beyond it waits, and its wait counts as latency.</param>
/// <param name="Texts">Texts sent in turn, one per request.</param>
/// <param name="TimeoutSeconds">A request not answered by then counts as <c>timeout</c>.</param>
/// <param name="WarmupSeconds">Requests at the first rate before the measured runs, not recorded.</param>
/// <param name="MaxTokens">max_tokens of completion bodies.</param>
public sealed record LoadTestOptions(Uri Url, IReadOnlyList<double> Rates, double DurationSeconds, int Concurrency = 256,
    IReadOnlyList<string>? Texts = null, double TimeoutSeconds = 30, double WarmupSeconds = 0, int MaxTokens = 16)
{
    /// <summary>Throws <see cref="ArgumentException"/> naming the bad option.</summary>
    public LoadTestOptions Validate()
    {
        ArgumentNullException.ThrowIfNull(Url);
        if (!Url.IsAbsoluteUri || Url.Scheme is not ("http" or "https")) throw new ArgumentException($"--url must be an http(s) URL, got '{Url}'");
        if (!Url.IsLoopback) throw new ArgumentException($"--url must be a loopback address (127.0.0.1, localhost, [::1]); got '{Url.Host}'");
        if (Rates is null || Rates.Count == 0) throw new ArgumentException("give --rate R or --sweep R1,R2,…");
        foreach (double r in Rates)
            if (!(r > 0) || double.IsInfinity(r)) throw new ArgumentException($"rates must be > 0 requests/s, got {r}");
        if (!(DurationSeconds > 0) || DurationSeconds > 3600) throw new ArgumentException($"--duration must be in (0, 3600] seconds, got {DurationSeconds}");
        if (Concurrency < 1) throw new ArgumentException($"--concurrency must be >= 1, got {Concurrency}");
        if (!(TimeoutSeconds > 0)) throw new ArgumentException($"--timeout must be > 0 seconds, got {TimeoutSeconds}");
        if (!(WarmupSeconds >= 0) || WarmupSeconds > 600) throw new ArgumentException($"--warmup must be in [0, 600] seconds, got {WarmupSeconds}");
        if (Texts is { Count: 0 }) throw new ArgumentException("the texts file has no non-empty lines");
        if (Rates.Max() * DurationSeconds > 5_000_000) throw new ArgumentException("rate × duration exceeds 5,000,000 requests per run");
        return this;
    }
}

/// <summary>One run at one rate. Latencies (ms) are of successful (2xx) responses, measured from each request's scheduled send time.</summary>
/// <param name="TargetRate">Requests per second scheduled.</param>
/// <param name="DurationSeconds">Scheduled arrival window.</param>
/// <param name="Sent">Requests scheduled.</param>
/// <param name="Ok">2xx responses.</param>
/// <param name="AchievedQps">2xx responses per second, over the time from the first arrival to the last response.</param>
/// <param name="P50Ms">Median latency.</param>
/// <param name="P90Ms">90th percentile.</param>
/// <param name="P99Ms">99th percentile.</param>
/// <param name="MaxMs">Largest latency.</param>
/// <param name="MeanMs">Mean latency.</param>
/// <param name="Errors">Non-2xx outcomes by HTTP status, or <c>timeout</c> / <c>connection</c>.</param>
/// <param name="MaxLateMs">Largest delay between a scheduled send time and the actual send (load-generator lag, part of the latency).</param>
/// <param name="SendP50Ms">Median latency from the actual send (what closed-loop tools such as hey and wrk report), for cross-checks.</param>
/// <param name="SendP99Ms">99th percentile from the actual send.</param>
public sealed record LoadTestResult(double TargetRate, double DurationSeconds, int Sent, int Ok, double AchievedQps,
    double P50Ms, double P90Ms, double P99Ms, double MaxMs, double MeanMs, IReadOnlyDictionary<string, int> Errors, double MaxLateMs,
    double SendP50Ms, double SendP99Ms);

/// <summary>All runs of one <c>distill loadtest</c>.</summary>
public sealed record LoadTestReport(string Url, int Concurrency, IReadOnlyList<LoadTestResult> Runs, string LoadAverage);

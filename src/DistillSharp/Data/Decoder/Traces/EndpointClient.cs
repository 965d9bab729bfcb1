using System.Net;
using System.Text;
using DistillSharp.Runtime;

namespace DistillSharp.Data.Decoder.Traces;

/// <summary>A request the endpoint refused for good (a 4xx other than 429), or that still failed after every retry.</summary>
public sealed class TeacherRequestException(string message, int? status) : Exception(message)
{
    /// <summary>The last HTTP status, null for a transport failure.</summary>
    public int? Status { get; } = status;
}

/// <summary>
/// POSTs JSON to an OpenAI-compatible endpoint with a per-attempt timeout and retries with
/// exponential backoff and jitter (or the server's Retry-After) on 429, 5xx, dropped connections
/// and timeouts; other 4xx answers fail at once. Requests start no faster than the rate limit.
/// Counters say what happened. Thread-safe.
/// </summary>
public sealed class EndpointClient : IDisposable
{
    readonly HttpClient _http;
    readonly CollectLimits _limits;
    readonly RequestPacer _pacer;
    readonly Lock _rngLock = new();
    readonly SplitMix64 _jitter = new(0x7EAC4E12UL);
    long _attempts, _retries, _throttled, _serverErrors, _dropped, _timeouts;

    /// <summary>A client of <paramref name="teacher"/>; the API key is read from its environment variable now.</summary>
    public EndpointClient(EndpointTeacher teacher, CollectLimits limits, HttpMessageHandler? handler = null)
    {
        _limits = limits;
        _pacer = new RequestPacer(limits.RequestsPerSecond);
        string baseUrl = teacher.Endpoint.TrimEnd('/') + "/";
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = new Uri(baseUrl),
            Timeout = Timeout.InfiniteTimeSpan,                  // per attempt below
        };
        if (teacher.ApiKeyEnv is { } variable)
        {
            string key = Environment.GetEnvironmentVariable(variable) is { Length: > 0 } k ? k
                : throw new DistillSharpException($"teacher.api_key_env: the environment variable {variable} is not set");
            _http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        }
    }

    /// <summary>HTTP attempts made (first tries and retries).</summary>
    public long Attempts => Interlocked.Read(ref _attempts);
    /// <summary>Attempts that were retried.</summary>
    public long Retries => Interlocked.Read(ref _retries);
    /// <summary>429 answers.</summary>
    public long Throttled => Interlocked.Read(ref _throttled);
    /// <summary>5xx answers.</summary>
    public long ServerErrors => Interlocked.Read(ref _serverErrors);
    /// <summary>Connections refused, reset or closed before an answer.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);
    /// <summary>Attempts that ran past the timeout.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>POSTs <paramref name="json"/> to <paramref name="route"/> (relative to the base URL) and returns the 2xx body.</summary>
    public async Task<string> PostAsync(string route, string json, CancellationToken cancel)
    {
        string failure = "";
        int? status = null;
        for (int attempt = 0; ; attempt++)
        {
            cancel.ThrowIfCancellationRequested();
            await _pacer.WaitAsync(cancel).ConfigureAwait(false);
            Interlocked.Increment(ref _attempts);
            TimeSpan? retryAfter = null;
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel))
            {
                timeout.CancelAfter(TimeSpan.FromSeconds(_limits.TimeoutSeconds));
                try
                {
                    using var content = new StringContent(json, Encoding.UTF8, "application/json");
                    using var response = await _http.PostAsync(route, content, timeout.Token).ConfigureAwait(false);
                    string body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                    int code = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode) return body;
                    status = code;
                    failure = $"HTTP {code}: {Shorten(body)}";
                    if (code == (int)HttpStatusCode.TooManyRequests) Interlocked.Increment(ref _throttled);
                    else if (code >= 500) Interlocked.Increment(ref _serverErrors);
                    else throw new TeacherRequestException($"the teacher endpoint refused the request: {failure}", code);
                    retryAfter = RetryAfter(response);
                }
                catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _timeouts);
                    failure = $"no answer within {_limits.TimeoutSeconds} s";
                    status = null;
                }
                catch (Exception e) when (e is HttpRequestException or IOException)
                {
                    Interlocked.Increment(ref _dropped);
                    failure = $"connection failed: {e.Message}";
                    status = null;
                }
            }
            if (attempt >= _limits.Retries)
                throw new TeacherRequestException($"the teacher endpoint failed {attempt + 1} times; last: {failure}", status);
            Interlocked.Increment(ref _retries);
            await Task.Delay(retryAfter ?? Backoff(attempt), cancel).ConfigureAwait(false);
        }
    }

    TimeSpan Backoff(int attempt)
    {
        double jitter;
        lock (_rngLock) jitter = 0.5 + _jitter.NextDouble();  // × [0.5, 1.5): retries of many requests spread out
        return TimeSpan.FromSeconds(Math.Min(_limits.MaxBackoffSeconds, _limits.BackoffSeconds * Math.Pow(2, attempt) * jitter));
    }

    TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        var delay = header?.Delta ?? (header?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        return delay is { } d ? TimeSpan.FromSeconds(Math.Clamp(d.TotalSeconds, 0, _limits.MaxBackoffSeconds)) : null;
    }

    static string Shorten(string body) => body.Length <= 200 ? body : body[..200] + "…";

    /// <inheritdoc/>
    public void Dispose() => _http.Dispose();
}

/// <summary>Spaces request starts at least 1 / rate seconds apart (rate 0 = no limit).</summary>
sealed class RequestPacer(double requestsPerSecond)
{
    readonly Lock _lock = new();
    readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    double _next;

    public Task WaitAsync(CancellationToken cancel)
    {
        if (requestsPerSecond <= 0) return Task.CompletedTask;
        double wait;
        lock (_lock)
        {
            double now = _clock.Elapsed.TotalSeconds, start = Math.Max(now, _next);
            _next = start + 1 / requestsPerSecond;
            wait = start - now;
        }
        return wait > 0 ? Task.Delay(TimeSpan.FromSeconds(wait), cancel) : Task.CompletedTask;
    }
}

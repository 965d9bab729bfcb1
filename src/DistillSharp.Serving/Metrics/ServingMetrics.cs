using Prometheus;

namespace DistillSharp.Serving.Metrics;

/// <summary>
/// The server's Prometheus metrics (prometheus-net), in a registry of their own so that two
/// servers in one process (tests) do not share counts. Served as text at <c>GET /metrics</c>.
/// </summary>
public sealed class ServingMetrics
{
    /// <summary>The registry /metrics exports.</summary>
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>Finished requests by endpoint and HTTP status.</summary>
    public Counter Requests { get; }
    /// <summary>Wall time from the request's arrival to its response, by endpoint.</summary>
    public Histogram RequestDuration { get; }
    /// <summary>Sequences per model call, by queue.</summary>
    public Histogram BatchSize { get; }
    /// <summary>Tokens per model call (real tokens, padding not counted), by queue.</summary>
    public Histogram BatchTokens { get; }
    /// <summary>Wall time of one model call, by queue.</summary>
    public Histogram BatchDuration { get; }
    /// <summary>Time a request waited before its first row ran, by queue.</summary>
    public Histogram QueueTime { get; }
    /// <summary>Sequences waiting, by queue.</summary>
    public Gauge QueueDepth { get; }
    /// <summary>Tokens processed: <c>input</c> (encoder inputs), <c>prompt</c> and <c>completion</c> (decoders).</summary>
    public Counter Tokens { get; }

    public ServingMetrics()
    {
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        var seconds = Histogram.ExponentialBuckets(0.0005, 2, 16);                 // 0.5 ms … 16 s
        var counts = Histogram.ExponentialBuckets(1, 2, 11);                       // 1 … 1024
        Requests = f.CreateCounter("distill_requests_total", "Finished HTTP requests.", ["endpoint", "status"]);
        RequestDuration = f.CreateHistogram("distill_request_duration_seconds", "Request latency, arrival to response.",
            new HistogramConfiguration { LabelNames = ["endpoint"], Buckets = seconds });
        BatchSize = f.CreateHistogram("distill_batch_size", "Sequences per model call.",
            new HistogramConfiguration { LabelNames = ["queue"], Buckets = counts });
        BatchTokens = f.CreateHistogram("distill_batch_tokens", "Real tokens per model call.",
            new HistogramConfiguration { LabelNames = ["queue"], Buckets = Histogram.ExponentialBuckets(8, 2, 12) });
        BatchDuration = f.CreateHistogram("distill_batch_duration_seconds", "Wall time of one model call.",
            new HistogramConfiguration { LabelNames = ["queue"], Buckets = seconds });
        QueueTime = f.CreateHistogram("distill_queue_time_seconds", "Wait before a request's first row ran.",
            new HistogramConfiguration { LabelNames = ["queue"], Buckets = seconds });
        QueueDepth = f.CreateGauge("distill_queue_depth", "Sequences waiting in the batching queue.", ["queue"]);
        Tokens = f.CreateCounter("distill_tokens_total", "Tokens processed (input, prompt, completion).", ["kind"]);
    }
}

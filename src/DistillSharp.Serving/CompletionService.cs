using System.Diagnostics;
using DistillSharp.Serving.Backends;
using DistillSharp.Serving.Batching;
using DistillSharp.Serving.Http;
using DistillSharp.Serving.Metrics;

namespace DistillSharp.Serving;

/// <summary>
/// A decoder behind its queue: one worker thread takes the waiting sequences (after the oldest has
/// waited up to max-wait-ms for company; at most <see cref="MaxBatchSequences"/> and the token budget
/// of prompts) and runs them as one batch to the end. Requests that arrive meanwhile wait for the
/// next batch (sessions have a fixed batch: no joining mid-way). A full queue is a 429; a cancelled
/// request leaves the queue, or its sequence stops inside the running batch.
/// </summary>
public sealed class CompletionService : IDisposable
{
    sealed record Waiting(CompletionJob Job, long Arrival, TaskCompletionSource<CompletionResult> Done);

    readonly BatchingOptions _options;
    readonly ServingMetrics _metrics;
    readonly object _gate = new();
    readonly List<Waiting> _pending = [];
    readonly Thread _worker;
    bool _stopping;

    /// <summary>Starts the worker.</summary>
    public CompletionService(string modelId, ICompletionBackend backend, BatchingOptions batching, ServingMetrics metrics, int maxBatchSequences = 8)
    {
        if (maxBatchSequences < 1) throw new ArgumentOutOfRangeException(nameof(maxBatchSequences), maxBatchSequences, "must be >= 1");
        ModelId = modelId;
        Backend = backend ?? throw new ArgumentNullException(nameof(backend));
        _options = batching.Validate();
        _metrics = metrics;
        MaxBatchSequences = maxBatchSequences;
        _worker = new Thread(Work) { IsBackground = true, Name = "batcher-generate" };
        _worker.Start();
    }

    /// <summary>Model name reported in responses.</summary>
    public string ModelId { get; }
    /// <summary>The model.</summary>
    public ICompletionBackend Backend { get; }
    /// <summary>Most sequences per batch.</summary>
    public int MaxBatchSequences { get; }

    /// <summary>Sequences waiting now.</summary>
    public int QueuedSequences
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>Checks <paramref name="job"/> against the model (422/413), queues it (429 when full) and completes with its result.</summary>
    public Task<CompletionResult> SubmitAsync(CompletionJob job)
    {
        Check(job);
        var waiting = new Waiting(job, Stopwatch.GetTimestamp(), new TaskCompletionSource<CompletionResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            if (_stopping) throw new ServingException(503, ServingException.Server, "the server is stopping");
            if (_pending.Count >= _options.MaxQueue)
                throw ServingException.Busy($"the queue is full ({_pending.Count} of {_options.MaxQueue} sequences waiting); retry later");
            _pending.Add(waiting);
            _metrics.QueueDepth.WithLabels("generate").Set(_pending.Count);
            Monitor.Pulse(_gate);
        }
        if (job.Cancel.CanBeCanceled)
            job.Cancel.Register(() =>
            {
                lock (_gate)
                    if (_pending.Remove(waiting)) _metrics.QueueDepth.WithLabels("generate").Set(_pending.Count);
                waiting.Done.TrySetCanceled(job.Cancel);
            });
        return waiting.Done.Task;
    }

    void Check(CompletionJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.Prompt.Length == 0) throw ServingException.Invalid("the prompt has no tokens");
        foreach (int id in job.Prompt)
            if ((uint)id >= (uint)Backend.VocabSize)
                throw ServingException.Invalid($"the prompt holds token id {id}, outside the vocabulary [0, {Backend.VocabSize})");
        if (job.MaxTokens < 1) throw ServingException.Invalid($"max_tokens must be >= 1, got {job.MaxTokens}");
        if (job.Prompt.Length + job.MaxTokens > Backend.MaxContext)
            throw ServingException.Large($"the prompt has {job.Prompt.Length} tokens and max_tokens is {job.MaxTokens}: {job.Prompt.Length + job.MaxTokens} > the model's context of {Backend.MaxContext}");
        if (job.Prompt.Length > _options.MaxBatchTokens)
            throw ServingException.Large($"the prompt has {job.Prompt.Length} tokens; the server takes at most {_options.MaxBatchTokens} per batch (--max-batch-tokens)");
        var s = job.Sampling;
        if (!(s.Temperature >= 0) || double.IsInfinity(s.Temperature)) throw ServingException.Invalid($"temperature must be >= 0, got {s.Temperature}");
        if (!(s.TopP > 0 && s.TopP <= 1)) throw ServingException.Invalid($"top_p must be in (0, 1], got {s.TopP}");
        if (s.TopK < 0) throw ServingException.Invalid($"top_k must be >= 0 (0 = off), got {s.TopK}");
        if (!(s.RepetitionPenalty > 0) || double.IsInfinity(s.RepetitionPenalty)) throw ServingException.Invalid($"repetition_penalty must be > 0, got {s.RepetitionPenalty}");
        if (job.Stop.Any(string.IsNullOrEmpty)) throw ServingException.Invalid("stop strings must not be empty");
        if (job.TopLogprobs > 20) throw ServingException.Invalid($"top_logprobs must be in [0, 20], got {job.TopLogprobs}");
    }

    void Work()
    {
        while (true)
        {
            List<Waiting> batch;
            lock (_gate)
            {
                while (true)
                {
                    while (_pending.Count == 0 && !_stopping) Monitor.Wait(_gate);
                    if (_stopping) return;
                    long deadline = _pending[0].Arrival + (long)(_options.MaxWaitMs * Stopwatch.Frequency / 1000.0);
                    long now = Stopwatch.GetTimestamp();
                    if (now >= deadline || _pending.Count >= MaxBatchSequences) break;
                    Monitor.Wait(_gate, Math.Max(1, (int)Math.Ceiling((deadline - now) * 1000.0 / Stopwatch.Frequency)));
                }
                batch = [];
                int tokens = 0;
                foreach (var w in _pending)
                {
                    if (batch.Count == MaxBatchSequences || (batch.Count > 0 && tokens + w.Job.Prompt.Length > _options.MaxBatchTokens)) break;
                    batch.Add(w);
                    tokens += w.Job.Prompt.Length;
                }
                _pending.RemoveRange(0, batch.Count);
                _metrics.QueueDepth.WithLabels("generate").Set(_pending.Count);
            }
            Run(batch);
        }
    }

    void Run(List<Waiting> batch)
    {
        long start = Stopwatch.GetTimestamp();
        foreach (var w in batch) _metrics.QueueTime.WithLabels("generate").Observe(Stopwatch.GetElapsedTime(w.Arrival, start).TotalSeconds);
        try
        {
            var results = Backend.Generate(batch.Select(w => w.Job).ToList());
            _metrics.BatchSize.WithLabels("generate").Observe(batch.Count);
            _metrics.BatchTokens.WithLabels("generate").Observe(batch.Sum(w => w.Job.Prompt.Length));
            _metrics.BatchDuration.WithLabels("generate").Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            for (int i = 0; i < batch.Count; i++)
            {
                _metrics.Tokens.WithLabels("prompt").Inc(batch[i].Job.Prompt.Length);
                _metrics.Tokens.WithLabels("completion").Inc(results[i].Tokens.Count);
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception e)
        {
            foreach (var w in batch) w.Done.TrySetException(new ServingException(500, ServingException.Server, $"the model failed: {e.Message}"));
        }
    }

    /// <summary>Stops the worker after its current batch; waiting requests fail with 503.</summary>
    public void Dispose()
    {
        List<Waiting> left;
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            left = [.. _pending];
            _pending.Clear();
            Monitor.PulseAll(_gate);
        }
        foreach (var w in left) w.Done.TrySetException(new ServingException(503, ServingException.Server, "the server is stopping"));
        _worker.Join();
    }
}

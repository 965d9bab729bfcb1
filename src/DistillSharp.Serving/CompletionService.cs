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
public sealed class CompletionService : BatchQueue<CompletionService.Waiting>
{
    /// <summary>A queued sequence and the task its caller awaits.</summary>
    public sealed record Waiting(CompletionJob Job, long Arrival, TaskCompletionSource<CompletionResult> Done);

    /// <summary>Starts the worker.</summary>
    public CompletionService(string modelId, ICompletionBackend backend, BatchingOptions batching, ServingMetrics metrics, int maxBatchSequences = 8)
        : base("generate", batching, metrics)
    {
        if (maxBatchSequences < 1) throw new ArgumentOutOfRangeException(nameof(maxBatchSequences), maxBatchSequences, "must be >= 1");
        ModelId = modelId;
        Backend = backend ?? throw new ArgumentNullException(nameof(backend));
        MaxBatchSequences = maxBatchSequences;
        Start();
    }

    /// <summary>Model name reported in responses.</summary>
    public string ModelId { get; }
    /// <summary>The model.</summary>
    public ICompletionBackend Backend { get; }
    /// <summary>Most sequences per batch.</summary>
    public int MaxBatchSequences { get; }
    /// <summary>Sequences waiting now.</summary>
    public int QueuedSequences => Queued;

    /// <summary>Checks <paramref name="job"/> against the model (422/413), queues it (429 when full) and completes with its result.</summary>
    public Task<CompletionResult> SubmitAsync(CompletionJob job)
    {
        Check(job);
        var waiting = new Waiting(job, Stopwatch.GetTimestamp(), new TaskCompletionSource<CompletionResult>(TaskCreationOptions.RunContinuationsAsynchronously));
        Enqueue([waiting]);
        if (job.Cancel.CanBeCanceled)
            job.Cancel.Register(() =>
            {
                Remove(w => w == waiting);
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
        if (job.MaxTokens < (job.Echo ? 0 : 1)) throw ServingException.Invalid($"max_tokens must be >= {(job.Echo ? 0 : 1)}{(job.Echo ? "" : " (0 only with echo)")}, got {job.MaxTokens}");
        if (job.Prompt.Length + job.MaxTokens > Backend.MaxContext)
            throw ServingException.Large($"the prompt has {job.Prompt.Length} tokens and max_tokens is {job.MaxTokens}: {job.Prompt.Length + job.MaxTokens} > the model's context of {Backend.MaxContext}");
        if (job.Prompt.Length > Options.MaxBatchTokens)
            throw ServingException.Large($"the prompt has {job.Prompt.Length} tokens; the server takes at most {Options.MaxBatchTokens} per batch (--max-batch-tokens)");
        var s = job.Sampling;
        if (!(s.Temperature >= 0) || double.IsInfinity(s.Temperature)) throw ServingException.Invalid($"temperature must be >= 0, got {s.Temperature}");
        if (!(s.TopP > 0 && s.TopP <= 1)) throw ServingException.Invalid($"top_p must be in (0, 1], got {s.TopP}");
        if (s.TopK < 0) throw ServingException.Invalid($"top_k must be >= 0 (0 = off), got {s.TopK}");
        if (!(s.RepetitionPenalty > 0) || double.IsInfinity(s.RepetitionPenalty)) throw ServingException.Invalid($"repetition_penalty must be > 0, got {s.RepetitionPenalty}");
        if (job.Stop.Any(string.IsNullOrEmpty)) throw ServingException.Invalid("stop strings must not be empty");
        if (job.TopLogprobs > 20) throw ServingException.Invalid($"top_logprobs must be in [0, 20], got {job.TopLogprobs}");
    }

    /// <inheritdoc/>
    protected override long Arrival(Waiting item) => item.Arrival;

    /// <inheritdoc/>
    protected override bool Full(IReadOnlyList<Waiting> pending) => pending.Count >= MaxBatchSequences;

    /// <inheritdoc/>
    protected override List<Waiting> Take(IReadOnlyList<Waiting> pending)
    {
        var batch = new List<Waiting>();
        int tokens = 0;
        foreach (var w in pending)
        {
            if (batch.Count == MaxBatchSequences || (batch.Count > 0 && tokens + w.Job.Prompt.Length > Options.MaxBatchTokens)) break;
            batch.Add(w);
            tokens += w.Job.Prompt.Length;
        }
        return batch;
    }

    /// <inheritdoc/>
    protected override void Run(List<Waiting> batch)
    {
        long start = Stopwatch.GetTimestamp();
        foreach (var w in batch) Metrics.QueueTime.WithLabels(Name).Observe(Stopwatch.GetElapsedTime(w.Arrival, start).TotalSeconds);
        try
        {
            var results = Backend.Generate(batch.Select(w => w.Job).ToList());
            Metrics.BatchSize.WithLabels(Name).Observe(batch.Count);
            Metrics.BatchTokens.WithLabels(Name).Observe(batch.Sum(w => w.Job.Prompt.Length));
            Metrics.BatchDuration.WithLabels(Name).Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            for (int i = 0; i < batch.Count; i++)
            {
                Metrics.Tokens.WithLabels("prompt").Inc(batch[i].Job.Prompt.Length);
                Metrics.Tokens.WithLabels("completion").Inc(results[i].Tokens.Count);
                batch[i].Done.TrySetResult(results[i]);
            }
        }
        catch (Exception e)
        {
            Fail(batch, new ServingException(500, ServingException.Server, $"the model failed: {e.Message}"));
        }
    }

    /// <inheritdoc/>
    protected override void Fail(IEnumerable<Waiting> items, ServingException error)
    {
        foreach (var w in items) w.Done.TrySetException(error);
    }
}

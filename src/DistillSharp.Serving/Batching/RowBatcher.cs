using System.Diagnostics;
using DistillSharp.Serving.Http;
using DistillSharp.Serving.Metrics;

namespace DistillSharp.Serving.Batching;

/// <summary>
/// The dynamic batching queue in front of one model (TEI's queue + batching task): requests submit
/// token sequences, a single worker thread takes waiting rows into micro-batches by a token budget
/// or the oldest row's maximum wait, runs the model on them and hands each request exactly its own
/// rows back. The model is called from that one thread only (our INT8 runtimes are not thread-safe).
/// </summary>
/// <remarks>
/// Row choice: the oldest row always goes first (nothing starves). For a packed backend (cost = sum
/// of lengths) further rows follow in arrival order; for a padded backend (cost = count × longest)
/// they are the waiting rows closest in length to the oldest, so short rows are not padded to a long
/// one. A request whose caller goes away (its token is cancelled) leaves the queue at once; its
/// rows already in a running call are dropped when the call returns.
/// </remarks>
public sealed class RowBatcher : BatchQueue<RowBatcher.Row>
{
    /// <summary>One request's sequences and where their vectors go.</summary>
    public sealed class Job(int[][] rows, long submitted, CancellationToken token)
    {
        internal readonly int[][] Rows = rows;
        internal readonly float[][] Results = new float[rows.Length][];
        internal readonly long Submitted = submitted;
        internal readonly CancellationToken Token = token;
        internal readonly TaskCompletionSource<BatchResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        internal int Remaining = rows.Length;
        internal long FirstStart = -1;
        internal long InferenceTicks;
        internal volatile bool Cancelled;
        internal CancellationTokenRegistration Registration;
    }

    /// <summary>One waiting sequence: row <see cref="Index"/> of <see cref="Job"/>.</summary>
    public sealed record Row(Job Job, int Index)
    {
        internal int Length => Job.Rows[Index].Length;
    }

    readonly Func<IReadOnlyList<int[]>, float[][]> _run;
    readonly bool _padded;

    /// <summary>
    /// Starts the worker. <paramref name="run"/> maps a batch of sequences to one vector each;
    /// <paramref name="padded"/> says how a batch is costed; <paramref name="name"/> labels the metrics.
    /// </summary>
    public RowBatcher(string name, Func<IReadOnlyList<int[]>, float[][]> run, bool padded, BatchingOptions options, ServingMetrics metrics)
        : base(name, options, metrics)
    {
        _run = run ?? throw new ArgumentNullException(nameof(run));
        _padded = padded;
        Start();
    }

    /// <summary>Sequences waiting now.</summary>
    public int QueuedRows => Queued;

    /// <summary>
    /// Queues <paramref name="rows"/> (each non-empty) and completes with their vectors in order.
    /// Throws <see cref="ServingException"/> 429 when the queue cannot take them; cancelling
    /// <paramref name="cancel"/> removes the rows and cancels the task.
    /// </summary>
    public Task<BatchResult> SubmitAsync(IReadOnlyList<int[]> rows, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) return Task.FromResult(new BatchResult([], TimeSpan.Zero, TimeSpan.Zero));
        if (rows.Any(r => r is null || r.Length == 0)) throw new ArgumentException("every row needs at least one token", nameof(rows));
        if (cancel.IsCancellationRequested) return Task.FromCanceled<BatchResult>(cancel);
        var job = new Job([.. rows], Stopwatch.GetTimestamp(), cancel);
        Enqueue(Enumerable.Range(0, rows.Count).Select(i => new Row(job, i)).ToList());
        if (cancel.CanBeCanceled) job.Registration = cancel.Register(() =>
        {
            job.Cancelled = true;
            Remove(r => r.Job == job);
            job.Done.TrySetCanceled(job.Token);
        });
        return job.Done.Task;
    }

    /// <inheritdoc/>
    protected override long Arrival(Row item) => item.Job.Submitted;

    /// <inheritdoc/>
    protected override bool Full(IReadOnlyList<Row> pending) =>
        (_padded ? (long)pending.Count * pending.Max(r => r.Length) : pending.Sum(r => (long)r.Length)) >= Options.MaxBatchTokens;

    /// <inheritdoc/>
    protected override List<Row> Take(IReadOnlyList<Row> pending)
    {
        var first = pending[0];
        var batch = new List<Row> { first };
        int longest = first.Length;
        long cost = first.Length;
        IEnumerable<int> order = Enumerable.Range(1, pending.Count - 1);
        if (_padded) order = order.OrderBy(i => Math.Abs(pending[i].Length - first.Length)).ThenBy(i => i);
        foreach (int i in order)
        {
            var row = pending[i];
            long next = _padded ? (long)(batch.Count + 1) * Math.Max(longest, row.Length) : cost + row.Length;
            if (next > Options.MaxBatchTokens)
            {
                if (_padded) break;  // rows further away in length cost more still
                continue;            // packed: a shorter later row may still fit
            }
            batch.Add(row);
            longest = Math.Max(longest, row.Length);
            cost = next;
        }
        return batch;
    }

    /// <inheritdoc/>
    protected override void Run(List<Row> batch)
    {
        long start = Stopwatch.GetTimestamp();
        float[][]? outputs = null;
        Exception? failure = null;
        try
        {
            outputs = _run(batch.Select(r => r.Job.Rows[r.Index]).ToList());
            if (outputs.Length != batch.Count) throw new InvalidOperationException($"the model returned {outputs.Length} rows for {batch.Count} sequences");
        }
        catch (Exception e)
        {
            failure = e;
        }
        long end = Stopwatch.GetTimestamp();
        Metrics.BatchSize.WithLabels(Name).Observe(batch.Count);
        Metrics.BatchTokens.WithLabels(Name).Observe(batch.Sum(r => r.Length));
        Metrics.BatchDuration.WithLabels(Name).Observe(Stopwatch.GetElapsedTime(start, end).TotalSeconds);
        var seen = new HashSet<Job>();
        for (int i = 0; i < batch.Count; i++)
        {
            var (job, index) = batch[i];
            if (seen.Add(job))
            {
                if (job.FirstStart < 0)
                {
                    job.FirstStart = start;
                    Metrics.QueueTime.WithLabels(Name).Observe(Stopwatch.GetElapsedTime(job.Submitted, start).TotalSeconds);
                }
                job.InferenceTicks += end - start;
            }
            if (job.Cancelled) continue;
            if (failure is not null)
            {
                job.Registration.Dispose();
                job.Done.TrySetException(new ServingException(500, ServingException.Server, $"the model failed: {failure.Message}"));
                continue;
            }
            job.Results[index] = outputs![i];
            if (--job.Remaining > 0) continue;
            job.Registration.Dispose();
            job.Done.TrySetResult(new BatchResult(job.Results, Stopwatch.GetElapsedTime(job.Submitted, job.FirstStart),
                TimeSpan.FromSeconds(job.InferenceTicks / (double)Stopwatch.Frequency)));
        }
    }

    /// <inheritdoc/>
    protected override void Fail(IEnumerable<Row> items, ServingException error)
    {
        foreach (var job in items.Select(r => r.Job).Distinct()) job.Done.TrySetException(error);
    }
}

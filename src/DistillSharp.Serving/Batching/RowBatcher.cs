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
public sealed class RowBatcher : IDisposable
{
    sealed class Job(int[][] rows, long submitted, CancellationToken token)
    {
        public readonly int[][] Rows = rows;
        public readonly float[][] Results = new float[rows.Length][];
        public readonly long Submitted = submitted;
        public readonly CancellationToken Token = token;
        public readonly TaskCompletionSource<BatchResult> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Remaining = rows.Length;
        public long FirstStart = -1;
        public long InferenceTicks;
        public bool Cancelled;
        public CancellationTokenRegistration Registration;
    }

    readonly record struct Row(Job Job, int Index, long Arrival)
    {
        public int Length => Job.Rows[Index].Length;
    }

    readonly Func<IReadOnlyList<int[]>, float[][]> _run;
    readonly bool _padded;
    readonly BatchingOptions _options;
    readonly ServingMetrics _metrics;
    readonly string _name;
    readonly object _gate = new();
    readonly List<Row> _pending = [];
    readonly Thread _worker;
    long _pendingTokens;
    bool _stopping;

    /// <summary>
    /// Starts the worker. <paramref name="run"/> maps a batch of sequences to one vector each;
    /// <paramref name="padded"/> says how a batch is costed; <paramref name="name"/> labels the metrics.
    /// </summary>
    public RowBatcher(string name, Func<IReadOnlyList<int[]>, float[][]> run, bool padded, BatchingOptions options, ServingMetrics metrics)
    {
        _name = name;
        _run = run ?? throw new ArgumentNullException(nameof(run));
        _padded = padded;
        _options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        _metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _worker = new Thread(Work) { IsBackground = true, Name = $"batcher-{name}" };
        _worker.Start();
    }

    /// <summary>The options in force.</summary>
    public BatchingOptions Options => _options;

    /// <summary>Sequences waiting now.</summary>
    public int QueuedRows
    {
        get { lock (_gate) return _pending.Count; }
    }

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
        lock (_gate)
        {
            if (_stopping) throw new ServingException(503, ServingException.Server, "the server is stopping");
            if (_pending.Count + rows.Count > _options.MaxQueue)
                throw ServingException.Busy($"the queue is full ({_pending.Count} of {_options.MaxQueue} sequences waiting, this request has {rows.Count}); retry later");
            for (int i = 0; i < job.Rows.Length; i++)
            {
                _pending.Add(new Row(job, i, job.Submitted));
                _pendingTokens += job.Rows[i].Length;
            }
            _metrics.QueueDepth.WithLabels(_name).Set(_pending.Count);
            Monitor.Pulse(_gate);
        }
        if (cancel.CanBeCanceled) job.Registration = cancel.Register(() => Cancel(job));
        return job.Done.Task;
    }

    void Cancel(Job job)
    {
        lock (_gate)
        {
            job.Cancelled = true;
            int removed = _pending.RemoveAll(r =>
            {
                if (r.Job != job) return false;
                _pendingTokens -= r.Length;
                return true;
            });
            if (removed > 0) _metrics.QueueDepth.WithLabels(_name).Set(_pending.Count);
        }
        job.Done.TrySetCanceled(job.Token);
    }

    void Work()
    {
        while (true)
        {
            List<Row> batch;
            lock (_gate)
            {
                if (!WaitForBatch()) return;
                batch = Take();
                _metrics.QueueDepth.WithLabels(_name).Set(_pending.Count);
            }
            Run(batch);
        }
    }

    // Waits (holding the lock) until the pending rows fill the budget or the oldest has waited
    // MaxWaitMs; false when the batcher is stopping.
    bool WaitForBatch()
    {
        while (true)
        {
            while (_pending.Count == 0 && !_stopping) Monitor.Wait(_gate);
            if (_stopping) return false;
            long deadline = _pending[0].Arrival + (long)(_options.MaxWaitMs * Stopwatch.Frequency / 1000.0);
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline || PendingCost() >= _options.MaxBatchTokens) return true;
            int waitMs = (int)Math.Ceiling((deadline - now) * 1000.0 / Stopwatch.Frequency);
            Monitor.Wait(_gate, Math.Max(1, waitMs));
        }
    }

    long PendingCost() => _padded ? (long)_pending.Count * _pending.Max(r => r.Length) : _pendingTokens;

    // Removes the rows of the next model call from the queue (see the class remarks).
    List<Row> Take()
    {
        var first = _pending[0];
        var batch = new List<Row> { first };
        int budget = _options.MaxBatchTokens, longest = first.Length;
        long cost = first.Length;
        IEnumerable<int> order = Enumerable.Range(1, _pending.Count - 1);
        if (_padded) order = order.OrderBy(i => Math.Abs(_pending[i].Length - first.Length)).ThenBy(i => i);
        var taken = new HashSet<int> { 0 };
        foreach (int i in order)
        {
            var row = _pending[i];
            long next = _padded ? (long)(batch.Count + 1) * Math.Max(longest, row.Length) : cost + row.Length;
            if (next > budget)
            {
                if (_padded) break;  // rows further away in length cost more still
                continue;            // packed: a shorter later row may still fit
            }
            batch.Add(row);
            taken.Add(i);
            longest = Math.Max(longest, row.Length);
            cost = next;
        }
        int k = 0;
        for (int i = 0; i < _pending.Count; i++)
        {
            if (taken.Contains(i)) _pendingTokens -= _pending[i].Length;
            else _pending[k++] = _pending[i];
        }
        _pending.RemoveRange(k, _pending.Count - k);
        return batch;
    }

    void Run(List<Row> batch)
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
        _metrics.BatchSize.WithLabels(_name).Observe(batch.Count);
        _metrics.BatchTokens.WithLabels(_name).Observe(batch.Sum(r => r.Length));
        _metrics.BatchDuration.WithLabels(_name).Observe(Stopwatch.GetElapsedTime(start, end).TotalSeconds);
        var seen = new HashSet<Job>();
        for (int i = 0; i < batch.Count; i++)
        {
            var (job, index, _) = batch[i];
            if (seen.Add(job))
            {
                if (job.FirstStart < 0)
                {
                    job.FirstStart = start;
                    _metrics.QueueTime.WithLabels(_name).Observe(Stopwatch.GetElapsedTime(job.Submitted, start).TotalSeconds);
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

    /// <summary>Stops the worker after its current call; waiting requests fail with 503.</summary>
    public void Dispose()
    {
        List<Row> left;
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            left = [.. _pending];
            _pending.Clear();
            Monitor.PulseAll(_gate);
        }
        foreach (var job in left.Select(r => r.Job).Distinct())
            job.Done.TrySetException(new ServingException(503, ServingException.Server, "the server is stopping"));
        _worker.Join();
    }
}

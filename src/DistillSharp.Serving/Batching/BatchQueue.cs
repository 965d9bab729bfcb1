using System.Diagnostics;
using DistillSharp.Serving.Http;
using DistillSharp.Serving.Metrics;

namespace DistillSharp.Serving.Batching;

/// <summary>
/// What both batching queues share (<see cref="RowBatcher"/> for encoders, <see cref="CompletionService"/>
/// for decoders): a bounded list of waiting items, one worker thread that owns the model, the wait
/// until a batch is ready (the budget is full, or the oldest item has waited max-wait-ms), and a stop
/// that fails what still waits with 503. The two differ only in when a batch is full, which items
/// it takes and how it runs them.
/// </summary>
public abstract class BatchQueue<TItem> : IDisposable where TItem : class
{
    readonly object _gate = new();
    readonly List<TItem> _pending = [];
    readonly Thread _worker;
    bool _stopping;

    /// <summary>Creates the worker (started by <see cref="Start"/>, once the derived class is built).</summary>
    protected BatchQueue(string name, BatchingOptions options, ServingMetrics metrics)
    {
        Name = name;
        Options = (options ?? throw new ArgumentNullException(nameof(options))).Validate();
        Metrics = metrics ?? throw new ArgumentNullException(nameof(metrics));
        _worker = new Thread(Work) { IsBackground = true, Name = $"batcher-{name}" };
    }

    /// <summary>Queue name (the <c>queue</c> label of the metrics).</summary>
    protected string Name { get; }
    /// <summary>The options in force.</summary>
    public BatchingOptions Options { get; }
    /// <summary>The server's metrics.</summary>
    protected ServingMetrics Metrics { get; }

    /// <summary>Items waiting now.</summary>
    public int Queued
    {
        get { lock (_gate) return _pending.Count; }
    }

    /// <summary>Starts the worker thread.</summary>
    protected void Start() => _worker.Start();

    /// <summary>When <paramref name="item"/> arrived (<see cref="Stopwatch"/> ticks).</summary>
    protected abstract long Arrival(TItem item);
    /// <summary>Whether the waiting items fill a batch already (then it runs without waiting longer).</summary>
    protected abstract bool Full(IReadOnlyList<TItem> pending);
    /// <summary>The items of the next batch, oldest first among them; at least <paramref name="pending"/>[0].</summary>
    protected abstract List<TItem> Take(IReadOnlyList<TItem> pending);
    /// <summary>Runs a batch on the worker thread (outside the lock) and completes its items.</summary>
    protected abstract void Run(List<TItem> batch);
    /// <summary>Fails items that will not run.</summary>
    protected abstract void Fail(IEnumerable<TItem> items, ServingException error);

    /// <summary>Queues <paramref name="items"/>, all or none: 429 when they would exceed max-queue, 503 when stopping.</summary>
    protected void Enqueue(IReadOnlyList<TItem> items)
    {
        lock (_gate)
        {
            if (_stopping) throw new ServingException(503, ServingException.Server, "the server is stopping");
            if (_pending.Count + items.Count > Options.MaxQueue)
                throw ServingException.Busy($"the queue is full ({_pending.Count} of {Options.MaxQueue} sequences waiting, this request has {items.Count}); retry later");
            _pending.AddRange(items);
            Metrics.QueueDepth.WithLabels(Name).Set(_pending.Count);
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Removes waiting items that match (a caller went away); returns how many.</summary>
    protected int Remove(Predicate<TItem> match)
    {
        lock (_gate)
        {
            int removed = _pending.RemoveAll(match);
            if (removed > 0) Metrics.QueueDepth.WithLabels(Name).Set(_pending.Count);
            return removed;
        }
    }

    void Work()
    {
        while (true)
        {
            List<TItem> batch;
            lock (_gate)
            {
                if (!WaitForBatch()) return;
                batch = Take(_pending);
                var taken = batch.ToHashSet(ReferenceEqualityComparer.Instance);
                _pending.RemoveAll(taken.Contains);
                Metrics.QueueDepth.WithLabels(Name).Set(_pending.Count);
            }
            Run(batch);
        }
    }

    // Waits (holding the lock) until the waiting items fill a batch or the oldest has waited
    // max-wait-ms; false when stopping.
    bool WaitForBatch()
    {
        while (true)
        {
            while (_pending.Count == 0 && !_stopping) Monitor.Wait(_gate);
            if (_stopping) return false;
            long deadline = Arrival(_pending[0]) + (long)(Options.MaxWaitMs * Stopwatch.Frequency / 1000.0);
            long now = Stopwatch.GetTimestamp();
            if (now >= deadline || Full(_pending)) return true;
            Monitor.Wait(_gate, Math.Max(1, (int)Math.Ceiling((deadline - now) * 1000.0 / Stopwatch.Frequency)));
        }
    }

    /// <summary>Stops the worker after its current batch; waiting items fail with 503.</summary>
    public void Dispose()
    {
        List<TItem> left;
        lock (_gate)
        {
            if (_stopping) return;
            _stopping = true;
            left = [.. _pending];
            _pending.Clear();
            Monitor.PulseAll(_gate);
        }
        Fail(left, new ServingException(503, ServingException.Server, "the server is stopping"));
        if (_worker.IsAlive) _worker.Join();
        GC.SuppressFinalize(this);
    }
}

namespace DistillSharp.Runtime.Kernels;

/// <summary>A unit of work split into parts; part p of n runs on one thread.</summary>
public interface IParallelJob
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    void Run(int part, int parts);
}

/// <summary>
/// A small fixed pool for kernels: <c>threads − 1</c> dedicated background workers plus the
/// calling thread. <see cref="Run"/> hands each thread one part and returns when all are done. It
/// does not allocate per call (the job is a caller-owned object), unlike Parallel.For.
/// One <see cref="Run"/> at a time per pool.
/// </summary>
public sealed class KernelThreadPool : IDisposable
{
    readonly Thread[] _workers;
    readonly SemaphoreSlim[] _start;
    readonly ManualResetEventSlim _done = new(false, spinCount: 2000);
    IParallelJob? _job;
    int _parts;
    int _pending;
    volatile bool _stopping;
    Exception? _error;

    /// <summary>Creates a pool that runs jobs on <paramref name="threads"/> threads (≥ 1) including the caller.</summary>
    public KernelThreadPool(int threads)
    {
        if (threads < 1) throw new DistillSharpException($"threads must be >= 1, got {threads}.");
        Threads = threads;
        _workers = new Thread[threads - 1];
        _start = new SemaphoreSlim[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int part = i + 1;
            _start[i] = new SemaphoreSlim(0);
            _workers[i] = new Thread(() => WorkerLoop(part)) { IsBackground = true, Name = $"int8-kernel-{part}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads a job is split over, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="job"/> in <paramref name="parts"/> parts (1 ≤ parts ≤ Threads); rethrows a part's exception.</summary>
    public void Run(IParallelJob job, int parts)
    {
        ArgumentNullException.ThrowIfNull(job);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (parts < 1 || parts > Threads) throw new ArgumentOutOfRangeException(nameof(parts), parts, $"must be in [1, {Threads}]");
        if (parts == 1) { job.Run(0, 1); return; }
        _job = job;
        _parts = parts;
        _error = null;
        _done.Reset();
        Volatile.Write(ref _pending, parts - 1);
        for (int i = 0; i < parts - 1; i++) _start[i].Release();
        try { job.Run(0, parts); }
        finally { _done.Wait(); _job = null; }
        if (_error is { } e) throw new AggregateException(e);
    }

    void WorkerLoop(int part)
    {
        var start = _start[part - 1];
        while (true)
        {
            start.Wait();
            if (_stopping) return;
            try { _job!.Run(part, _parts); }
            catch (Exception e) { _error = e; }
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var s in _start) s.Release();
        foreach (var w in _workers) w.Join();
        foreach (var s in _start) s.Dispose();
        _done.Dispose();
    }
}

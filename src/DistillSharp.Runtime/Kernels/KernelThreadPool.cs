namespace DistillSharp.Runtime.Kernels;

/// <summary>A unit of work made of independent chunks.</summary>
public interface IParallelJob
{
    /// <summary>Runs chunk <paramref name="chunk"/>; chunks may run on any thread in any order.</summary>
    void RunChunk(int chunk);
}

/// <summary>
/// A small fixed pool for kernels: <c>threads − 1</c> dedicated background workers plus the
/// calling thread, which grab chunks of a job from a shared counter until none are left. Dynamic
/// grabbing keeps a call fast when a worker is descheduled by other load (the caller simply takes
/// more chunks), and <see cref="Run"/> allocates nothing (the job is a caller-owned object).
/// One <see cref="Run"/> at a time per pool.
/// </summary>
public sealed class KernelThreadPool : IDisposable
{
    // _next hands out chunk indices. Between calls it holds Closed, so a worker that wakes late
    // takes nothing while the caller is still writing the next job.
    const int Closed = int.MaxValue / 2;
    readonly Thread[] _workers;
    readonly SemaphoreSlim _wake = new(0);
    IParallelJob? _job;
    int _chunks;
    int _next = Closed;
    int _completed;
    volatile bool _stopping;
    Exception? _error;

    /// <summary>Creates a pool that runs jobs on <paramref name="threads"/> threads (≥ 1) including the caller.</summary>
    public KernelThreadPool(int threads)
    {
        if (threads < 1) throw new DistillSharpException($"threads must be >= 1, got {threads}.");
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"int8-kernel-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads a job is spread over, the caller included.</summary>
    public int Threads { get; }

    /// <summary>Runs chunks 0 … <paramref name="chunks"/> − 1 of <paramref name="job"/>; returns when all are done.</summary>
    public void Run(IParallelJob job, int chunks)
    {
        ArgumentNullException.ThrowIfNull(job);
        ObjectDisposedException.ThrowIf(_stopping, this);
        if (chunks <= 0) return;
        if (Threads == 1 || chunks == 1)
        {
            for (int c = 0; c < chunks; c++) job.RunChunk(c);
            return;
        }
        _job = job;
        _chunks = chunks;
        _error = null;
        Volatile.Write(ref _completed, 0);
        Interlocked.Exchange(ref _next, 0); // publishes the fields above
        _wake.Release(Math.Min(_workers.Length, chunks - 1));
        Work();
        var spin = new SpinWait();
        while (Volatile.Read(ref _completed) < chunks) spin.SpinOnce(sleep1Threshold: -1);
        Interlocked.Exchange(ref _next, Closed);
        _job = null;
        if (_error is { } e) throw new AggregateException(e);
    }

    void Work()
    {
        while (true)
        {
            int chunk = Interlocked.Increment(ref _next) - 1;
            if (chunk >= _chunks) return;
            try { _job!.RunChunk(chunk); }
            catch (Exception e) { _error = e; }
            Interlocked.Increment(ref _completed);
        }
    }

    void WorkerLoop()
    {
        while (true)
        {
            _wake.Wait();
            if (_stopping) return;
            Work();
        }
    }

    /// <summary>Stops the workers.</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Release(_workers.Length);
        foreach (var w in _workers) w.Join();
        _wake.Dispose();
    }
}

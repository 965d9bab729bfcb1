using System.Diagnostics;

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
/// <remarks>
/// A forward pass starts a job every 10–100 µs, so an idle worker first spins on the job counter
/// for <see cref="SpinMicroseconds"/> before it goes to sleep: a job then starts on a running
/// worker without a kernel wake-up, and the caller never touches a lock (it signals the semaphore
/// only when a worker is actually asleep). Blocking on the semaphore's own lock had cost ≈ 300 µs
/// per job on a loaded machine (a waking worker, descheduled while holding it, stalled the caller).
/// </remarks>
public sealed class KernelThreadPool : IDisposable
{
    // _next hands out chunk indices. Between calls it holds Closed, so a worker that wakes late
    // takes nothing while the caller is still writing the next job.
    const int Closed = int.MaxValue / 2;
    readonly Thread[] _workers;
    readonly SemaphoreSlim _wake = new(0);
    readonly long _spinTicks;
    IParallelJob? _job;
    int _chunks;
    int _next = Closed;
    int _completed;
    long _generation;   // +1 per job: what spinning workers watch
    int _sleepers;      // workers blocked (or about to block) on _wake
    volatile bool _stopping;
    Exception? _error;

    /// <summary>Creates a pool that runs jobs on <paramref name="threads"/> threads (≥ 1) including the caller.</summary>
    public KernelThreadPool(int threads, int spinMicroseconds = 200)
    {
        if (threads < 1) throw new DistillSharpException($"threads must be >= 1, got {threads}.");
        if (spinMicroseconds < 0) throw new DistillSharpException($"spin time must be >= 0 µs, got {spinMicroseconds}.");
        Threads = threads;
        SpinMicroseconds = spinMicroseconds;
        _spinTicks = spinMicroseconds * Stopwatch.Frequency / 1_000_000;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"int8-kernel-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>Threads a job is spread over, the caller included.</summary>
    public int Threads { get; }

    /// <summary>How long an idle worker polls for the next job before it sleeps.</summary>
    public int SpinMicroseconds { get; }

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
        Interlocked.Exchange(ref _next, 0);        // publishes the fields above
        Interlocked.Increment(ref _generation);    // full fence, then read _sleepers (pairs with the worker's order)
        int sleeping = Volatile.Read(ref _sleepers);
        if (sleeping > 0) _wake.Release(Math.Min(sleeping, chunks - 1));
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
        long seen = Volatile.Read(ref _generation);
        while (true)
        {
            long start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref _generation) == seen && !_stopping)
            {
                if (Stopwatch.GetTimestamp() - start < _spinTicks)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                // Announce the sleep, then look once more: the caller bumps _generation before it reads
                // _sleepers, so either it sees us and releases, or we see its job here. A stray release
                // only makes a later Wait return early; the loop then checks again.
                Interlocked.Increment(ref _sleepers);
                if (Volatile.Read(ref _generation) == seen && !_stopping) _wake.Wait();
                Interlocked.Decrement(ref _sleepers);
                start = Stopwatch.GetTimestamp();
            }
            if (_stopping) return;
            seen = Volatile.Read(ref _generation);
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

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
    // _grab hands out chunks: the job's chunk count in the high 32 bits, the next chunk index in the
    // low 32. One atomic increment returns an index together with the count of the job it belongs to,
    // so a thread descheduled between taking an index and looking at it can never mistake a stale
    // index (past the end of a finished job) for a chunk of the next job: that chunk would run twice,
    // _completed would count it twice, and Run would return while a chunk still ran, its pointers
    // already unpinned. Between calls _grab holds count 0: nothing can be taken.
    readonly Thread[] _workers;
    readonly SemaphoreSlim _wake = new(0);
    readonly long _spinTicks;
    IParallelJob? _job;
    long _grab;
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

    /// <summary>
    /// Test hook: called on the grabbing thread right after it took an index, before it looks at it
    /// (the argument: the index was past the end of its job). Lets a test hold a thread in that window.
    /// </summary>
    internal Action<bool>? AfterGrab;

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
        _error = null;
        Volatile.Write(ref _completed, 0);
        Interlocked.Exchange(ref _grab, (long)chunks << 32);   // publishes the fields above
        Interlocked.Increment(ref _generation);    // full fence, then read _sleepers (pairs with the worker's order)
        int sleeping = Volatile.Read(ref _sleepers);
        if (sleeping > 0) _wake.Release(Math.Min(sleeping, chunks - 1));
        Work();
        var spin = new SpinWait();
        while (Volatile.Read(ref _completed) < chunks) spin.SpinOnce(sleep1Threshold: -1);
        Interlocked.Exchange(ref _grab, 0);
        _job = null;
        if (_error is { } e) throw new AggregateException(e);
    }

    void Work()
    {
        while (true)
        {
            long grab = Interlocked.Increment(ref _grab);
            int chunk = (int)grab - 1, chunks = (int)(grab >>> 32);
            AfterGrab?.Invoke(chunk >= chunks);
            if (chunk >= chunks) return;
            // A valid index keeps its job from completing until it has run, so _job is still that job.
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

using DistillSharp.Runtime.Kernels;

namespace DistillSharp.Tests.Runtime;

public class KernelThreadPoolTests
{
    sealed class CountingJob(int chunks) : IParallelJob
    {
        public readonly int[] Hits = new int[chunks];
        public void RunChunk(int chunk) => Interlocked.Increment(ref Hits[chunk]);
    }

    sealed class FailingJob : IParallelJob
    {
        public void RunChunk(int chunk)
        {
            if (chunk == 3) throw new InvalidOperationException("chunk 3");
        }
    }

    [Fact]
    public void EveryChunkRunsExactlyOncePerCall()
    {
        using var pool = new KernelThreadPool(2);
        foreach (int chunks in new[] { 1, 2, 3, 17, 200 })
            for (int call = 0; call < 50; call++)
            {
                var job = new CountingJob(chunks);
                pool.Run(job, chunks);
                Assert.All(job.Hits, h => Assert.Equal(1, h));
            }
    }

    [Theory]
    [InlineData(0)]     // workers sleep at once: every job goes through the semaphore
    [InlineData(200)]   // the default: workers spin between jobs
    public void JobsAfterTheWorkersFellAsleepStillRunEveryChunk(int spinMicroseconds)
    {
        using var pool = new KernelThreadPool(3, spinMicroseconds);
        for (int call = 0; call < 40; call++)
        {
            if (call % 8 == 0) Thread.Sleep(2); // longer than the spin: the workers block
            var job = new CountingJob(9);
            pool.Run(job, 9);
            Assert.All(job.Hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void AChunkExceptionReachesTheCallerAndThePoolStaysUsable()
    {
        using var pool = new KernelThreadPool(2);
        var e = Assert.Throws<AggregateException>(() => pool.Run(new FailingJob(), 8));
        Assert.Equal("chunk 3", e.InnerException!.Message);
        var job = new CountingJob(8);
        pool.Run(job, 8);
        Assert.All(job.Hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void RunDoesNotAllocateOnTheCallingThread()
    {
        using var pool = new KernelThreadPool(2);
        var job = new CountingJob(64);
        pool.Run(job, 64);
        long before = GC.GetAllocatedBytesForCurrentThread();
        pool.Run(job, 64);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    sealed class DelegateJob(Action<int> run) : IParallelJob
    {
        public void RunChunk(int chunk) => run(chunk);
    }

    static bool OnWorker => Thread.CurrentThread.Name?.StartsWith("int8-kernel-", StringComparison.Ordinal) == true;

    // The SIGSEGV of late `distill run`s: a worker descheduled right after taking an index past the end
    // of job A woke up after job B had started, took the stale index for a chunk of B and ran it, while
    // the counter handed the same chunk to another thread; B counted one completion too many and Run
    // returned with a chunk still running on pointers whose `fixed` scope had ended.
    [Fact]
    public void AWorkerHeldAfterTakingAStaleIndexRunsNoChunkOfTheNextJob()
    {
        var timeout = TimeSpan.FromSeconds(10);
        using var pool = new KernelThreadPool(2, spinMicroseconds: 2_000_000);   // the worker keeps spinning
        using var paused = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        using var lookedAgain = new ManualResetEventSlim();
        int armed = 0;
        pool.AfterGrab = pastEnd =>
        {
            if (!OnWorker) return;
            if (pastEnd && Interlocked.Exchange(ref armed, 0) == 1)
            {
                paused.Set();
                release.Wait(timeout);
            }
            else if (release.IsSet) lookedAgain.Set();
        };
        try
        {
            // Job A: two chunks that wait for each other, so the worker runs one; its next index is past A's end.
            using var bothStarted = new Barrier(2);
            pool.Run(new DelegateJob(_ =>
            {
                Assert.True(bothStarted.SignalAndWait(timeout));
                if (OnWorker) Volatile.Write(ref armed, 1);
            }), 2);
            Assert.True(paused.Wait(timeout), "the worker never took an index past job A's end");
            // Job B, larger than A: the caller lets the worker go inside chunk 0 and waits until it has
            // acted on its stale index (its next grab), so a stale chunk would run alongside.
            var hits = new int[8];
            pool.Run(new DelegateJob(c =>
            {
                Interlocked.Increment(ref hits[c]);
                if (c != 0) return;
                release.Set();
                Assert.True(lookedAgain.Wait(timeout), "the worker did not come back");
            }), hits.Length);
            Assert.All(hits, h => Assert.Equal(1, h));
        }
        finally
        {
            release.Set();
            pool.AfterGrab = null;
        }
    }

    [Fact]
    public void RejectsZeroThreads()
    {
        var e = Assert.Throws<DistillSharpException>(() => new KernelThreadPool(0));
        Assert.Contains("0", e.Message);
    }
}

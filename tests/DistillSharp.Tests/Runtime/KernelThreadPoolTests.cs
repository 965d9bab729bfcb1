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

    [Fact]
    public void RejectsZeroThreads()
    {
        var e = Assert.Throws<DistillSharpException>(() => new KernelThreadPool(0));
        Assert.Contains("0", e.Message);
    }
}

namespace DistillSharp.Serving.Batching;

/// <summary>How the batching queue forms model calls.</summary>
/// <param name="MaxBatchTokens">
/// Token budget of one model call: real tokens for a packed backend, count × longest for a padded
/// one. A call starts as soon as the waiting rows fill it (a single longer row still runs alone).
/// </param>
/// <param name="MaxWaitMs">
/// Longest time the oldest waiting row waits for others to join its call. 0 (the default) is
/// natural batching: a call starts as soon as the model is free and takes every row that arrived
/// while it was busy — no added latency at low load, large batches under load. A wait above 0
/// trades that latency for fuller batches.
/// </param>
/// <param name="MaxQueue">Most sequences waiting; a request that would exceed it gets 429 (memory stays bounded under any load).</param>
public sealed record BatchingOptions(int MaxBatchTokens = 4096, double MaxWaitMs = 0, int MaxQueue = 1024)
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the bad option.</summary>
    public BatchingOptions Validate()
    {
        if (MaxBatchTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxBatchTokens), MaxBatchTokens, "max-batch-tokens must be >= 1");
        if (!(MaxWaitMs >= 0) || double.IsInfinity(MaxWaitMs)) throw new ArgumentOutOfRangeException(nameof(MaxWaitMs), MaxWaitMs, "max-wait-ms must be >= 0");
        if (MaxQueue < 1) throw new ArgumentOutOfRangeException(nameof(MaxQueue), MaxQueue, "max-queue must be >= 1");
        return this;
    }
}

/// <summary>What a request gets back from the queue: its rows in order, and where its time went.</summary>
/// <param name="Rows">One output vector per submitted sequence, in submission order.</param>
/// <param name="QueueTime">From submission to the start of the first model call that held one of its rows.</param>
/// <param name="InferenceTime">Summed wall time of the model calls that held its rows.</param>
public sealed record BatchResult(float[][] Rows, TimeSpan QueueTime, TimeSpan InferenceTime);

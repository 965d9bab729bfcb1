namespace DistillSharp.Runtime;

/// <summary>
/// The memory this process may use (the machine's, or its container's limit, as the GC sees it),
/// read once: sizes taken from files and arguments are checked against it before anything that
/// large is allocated.
/// </summary>
public static class MemoryBudget
{
    /// <summary>Bytes available to the process.</summary>
    public static long Bytes { get; } = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>Throws naming <paramref name="what"/> when <paramref name="bytes"/> exceed <see cref="Bytes"/>.</summary>
    public static void Require(long bytes, string what)
    {
        if (bytes > Bytes) throw Refusal(bytes, what);
    }

    /// <summary>The error for <paramref name="bytes"/> that do not fit (for hot paths, which build the message only when they throw).</summary>
    public static DistillSharpException Refusal(long bytes, string what) =>
        new($"{what} needs {bytes / 1e9:F1} GB, more than the {Bytes / 1e9:F1} GB of memory available");
}

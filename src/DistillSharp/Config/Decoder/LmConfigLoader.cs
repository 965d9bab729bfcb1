using YamlDotNet.RepresentationModel;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Config.Decoder;

/// <summary>Which pipeline a config file is for: the top-level <c>kind:</c> key (absent = the encoder pipeline).</summary>
public static class PipelineKind
{
    /// <summary>The language-model pipeline's kind.</summary>
    public const string Lm = "lm";

    /// <summary>Known kinds; "encoder" is what a config without <c>kind:</c> means.</summary>
    public static readonly string[] Known = ["encoder", Lm];

    /// <summary>The kind of a parsed config tree.</summary>
    public static string Of(YamlMappingNode root)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode("kind"), out var node) || YamlValues.IsNull(node)) return "encoder";
        var kind = YamlValues.String(node, "kind");
        return Known.Contains(kind) ? kind
            : throw new ConfigException("kind", $"must be one of {string.Join(", ", Known)} (absent = encoder), got '{kind}'");
    }

    /// <summary>The kind of a config file or text; file errors and YAML errors are reported as for loading.</summary>
    public static string OfText(string yaml, string source = "config") => Of(ConfigLoader.ParseTree(yaml, source));
}

/// <summary>Loads an <see cref="LmRunConfig"/> from a file or a string, with <c>--set</c> overrides.</summary>
public static class LmConfigLoader
{
    /// <summary>True when the file at <paramref name="path"/> says <c>kind: lm</c>; false for other kinds or a missing file (its loader reports that).</summary>
    public static bool IsLm(string path)
    {
        if (!File.Exists(path)) return false;
        try
        {
            return PipelineKind.OfText(File.ReadAllText(path), path) == PipelineKind.Lm;
        }
        catch (ConfigException e)
        {
            throw new DistillSharpException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Reads, overrides and binds the YAML file at <paramref name="path"/>.</summary>
    public static LmRunConfig Load(string path, IEnumerable<string>? overrides = null)
    {
        if (!File.Exists(path)) throw new DistillSharpException($"config file '{path}' does not exist");
        try
        {
            return Parse(File.ReadAllText(path), overrides, path);
        }
        catch (ConfigException e)
        {
            throw new DistillSharpException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Parses, overrides and binds YAML text; <paramref name="source"/> names it in syntax errors.</summary>
    public static LmRunConfig Parse(string yaml, IEnumerable<string>? overrides = null, string source = "config")
    {
        var root = ConfigLoader.ParseTree(yaml, source);
        foreach (var assignment in overrides ?? [])
            ConfigOverrides.Apply(root, assignment);
        return LmConfigBinder.Bind(root);
    }
}

/// <summary>configs/lm-default.yaml, embedded so that `distill pretrain` works wherever the tool is installed.</summary>
public static class LmDefaultConfig
{
    /// <summary>The YAML text.</summary>
    public static string Yaml
    {
        get
        {
            using var stream = typeof(LmDefaultConfig).Assembly.GetManifestResourceStream("DistillSharp.configs.lm-default.yaml")
                ?? throw new InvalidOperationException("configs/lm-default.yaml is not embedded in the library");
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
    }
}

using YamlDotNet.RepresentationModel;
using DistillSharp.Config.Encoder;
using DistillSharp.Distillation.Encoder;
using DistillSharp.Quantization;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Config;

/// <summary>Loads a <see cref="RunConfig"/> from a file or a string, with <c>--set</c> overrides.</summary>
public static class ConfigLoader
{
    /// <summary>Reads, overrides and binds the YAML file at <paramref name="path"/>.</summary>
    public static RunConfig Load(string path, IEnumerable<string>? overrides = null)
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
    public static RunConfig Parse(string yaml, IEnumerable<string>? overrides = null, string source = "config")
    {
        var root = ParseTree(yaml, source);
        foreach (var assignment in overrides ?? [])
            ConfigOverrides.Apply(root, assignment);
        return ConfigBinder.Bind(root);
    }

    /// <summary>The YAML node tree of a document; the root must be a mapping.</summary>
    public static YamlMappingNode ParseTree(string yaml, string source = "config")
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new DistillSharpException($"{source}: not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }
        if (stream.Documents.Count != 1)
            throw new DistillSharpException($"{source}: must hold exactly one YAML document, got {stream.Documents.Count}");
        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new DistillSharpException($"{source}: the top level must be a mapping (teacher:, student:, stages:, …)");
    }
}

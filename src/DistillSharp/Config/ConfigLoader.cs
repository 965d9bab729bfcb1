using DistillSharp.Config.Yaml;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config;

/// <summary>
/// Loads a config of any kind (<see cref="ConfigKinds"/>) from a file or a string, with <c>--set</c>
/// overrides: YAML syntax, the one-document rule, the overrides and the error wrapping are the same
/// for every kind; only the kind's binder differs.
/// </summary>
public static class ConfigLoader
{
    /// <summary>Reads, overrides and binds the YAML file at <paramref name="path"/>, whatever its kind.</summary>
    public static IRunConfig Load(string path, IEnumerable<string>? overrides = null) =>
        Guard(path, () => Parse(Read(path), overrides, path));

    /// <summary>Reads, overrides and binds the file at <paramref name="path"/>, which must be of the kind of <typeparamref name="T"/>.</summary>
    public static T Load<T>(string path, IEnumerable<string>? overrides = null) where T : IRunConfig =>
        Guard(path, () => Parse<T>(Read(path), overrides, path));

    /// <summary>Parses, overrides and binds YAML text of any kind; <paramref name="source"/> names it in errors.</summary>
    public static IRunConfig Parse(string yaml, IEnumerable<string>? overrides = null, string source = "config")
    {
        var root = ParseTree(yaml, source);
        foreach (var assignment in overrides ?? [])
            ConfigOverrides.Apply(root, assignment);
        return ConfigKinds.Of(root).Bind(root);
    }

    /// <summary>Parses YAML text that must be of the kind of <typeparamref name="T"/>.</summary>
    public static T Parse<T>(string yaml, IEnumerable<string>? overrides = null, string source = "config") where T : IRunConfig
    {
        var root = ParseTree(yaml, source);
        var kind = ConfigKinds.Of(root);
        var expected = ConfigKinds.All.Values.First(k => k.Type == typeof(T));
        if (kind != expected)
            throw new DistillSharpException($"{source}: is a kind: {kind.Name} config; expected kind: {expected.Name}");
        foreach (var assignment in overrides ?? [])
            ConfigOverrides.Apply(root, assignment);
        return (T)kind.Bind(root);
    }

    /// <summary>The kind of the config file at <paramref name="path"/>; file and YAML errors are reported as for loading.</summary>
    public static string KindOf(string path) => Guard(path, () => ConfigKinds.Of(ParseTree(Read(path), path)).Name);

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

    static string Read(string path) =>
        File.Exists(path) ? File.ReadAllText(path) : throw new DistillSharpException($"config file '{path}' does not exist");

    static T Guard<T>(string path, Func<T> load)
    {
        try
        {
            return load();
        }
        catch (ConfigException e)
        {
            throw new DistillSharpException($"{path}: {e.Message}", e);
        }
    }
}

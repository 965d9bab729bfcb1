using DistillSharp.Config.Decoder;
using DistillSharp.Config.Encoder;
using DistillSharp.Config.Yaml;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config;

/// <summary>One config kind: the record it binds to, its binder (YAML tree → record) and its writer (record → YAML tree).</summary>
/// <param name="Name">The value of <c>kind:</c>.</param>
/// <param name="Type">The record type.</param>
/// <param name="Bind">Binds and validates the whole document.</param>
/// <param name="Write">Every setting spelled out, in the shape <paramref name="Bind"/> reads.</param>
public sealed record ConfigKind(string Name, Type Type, Func<YamlMappingNode, IRunConfig> Bind, Func<IRunConfig, YamlMappingNode> Write);

/// <summary>
/// Every config kind, one row each; the top-level <c>kind:</c> key picks the row (absent = <c>encoder</c>).
/// A new kind is a record implementing <see cref="IRunConfig"/>, its binder and writer, and one row here.
/// </summary>
public static class ConfigKinds
{
    /// <summary>The encoder (sentence-embedding) pipeline's kind: what a config without <c>kind:</c> means.</summary>
    public const string Encoder = "encoder";

    /// <summary>The language-model pipeline's kind.</summary>
    public const string Lm = "lm";

    /// <summary>The kinds, by name.</summary>
    public static readonly IReadOnlyDictionary<string, ConfigKind> All = new[]
    {
        new ConfigKind(Encoder, typeof(RunConfig), root => ConfigBinder.Bind(root), c => EncoderConfigWriter.ToNode((RunConfig)c)),
        new ConfigKind(Lm, typeof(LmRunConfig), root => LmConfigBinder.Bind(root), c => LmConfigWriter.ToNode((LmRunConfig)c)),
    }.ToDictionary(k => k.Name, StringComparer.Ordinal);

    /// <summary>The kind of a parsed config tree.</summary>
    public static ConfigKind Of(YamlMappingNode root)
    {
        if (!root.Children.TryGetValue(new YamlScalarNode("kind"), out var node) || YamlValues.IsNull(node)) return All[Encoder];
        var kind = YamlValues.String(node, "kind");
        return All.TryGetValue(kind, out var k) ? k
            : throw new ConfigException("kind", $"must be one of {string.Join(", ", All.Keys)} (absent = {Encoder}), got '{kind}'");
    }

    /// <summary>The kind name of YAML text; YAML errors are reported as for loading.</summary>
    public static string OfText(string yaml, string source = "config") => Of(ConfigLoader.ParseTree(yaml, source)).Name;

    /// <summary>True when the file at <paramref name="path"/> exists and says <c>kind: <paramref name="kind"/></c>.</summary>
    public static bool FileIs(string path, string kind) => File.Exists(path) && ConfigLoader.KindOf(path) == kind;

    /// <summary>The row of a config record.</summary>
    public static ConfigKind Of(IRunConfig config) => All[config.Kind];
}

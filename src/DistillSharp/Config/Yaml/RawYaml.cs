using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config.Yaml;

/// <summary>
/// Plain-object copies of YAML subtrees, for sections another component validates (quantize):
/// scalars become strings (null for <c>~</c>), lists <see cref="IReadOnlyList{T}"/>, mappings
/// <see cref="IReadOnlyDictionary{TKey,TValue}"/> in document order.
/// </summary>
public static class RawYaml
{
    /// <summary>A mapping node as a dictionary; fails naming the path if it is not a mapping.</summary>
    public static IReadOnlyDictionary<string, object?> Mapping(YamlNode node, string path) =>
        node is YamlMappingNode map
            ? map.Children.ToDictionary(kv => YamlValues.String(kv.Key, path), kv => Value(kv.Value))
            : throw new ConfigException(path, $"must be a mapping, got {YamlValues.Describe(node)}");

    /// <summary>Any node as plain objects.</summary>
    public static object? Value(YamlNode node) => node switch
    {
        YamlMappingNode m => m.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value ?? "", kv => Value(kv.Value)),
        YamlSequenceNode s => s.Children.Select(Value).ToList(),
        _ when YamlValues.IsNull(node) => null,
        YamlScalarNode sc => sc.Value,
        _ => node.ToString(),
    };

    /// <summary>Plain objects back to a node tree.</summary>
    public static YamlNode ToNode(object? value) => value switch
    {
        null => new YamlScalarNode("~"),
        IReadOnlyDictionary<string, object?> d => new YamlMappingNode(d.Select(kv =>
            new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(kv.Key), ToNode(kv.Value)))),
        IEnumerable<object?> list when value is not string => new YamlSequenceNode(list.Select(ToNode)),
        _ => YamlValues.Scalar(value),
    };
}

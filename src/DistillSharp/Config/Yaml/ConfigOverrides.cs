using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config.Yaml;

/// <summary>
/// <c>--set path=value</c> overrides, applied to the YAML node tree before binding, so an
/// overridden value is validated exactly like one written in the file. Paths use the binder's
/// notation (<c>stages[0].optimizer.lr=3e-5</c>, <c>data.batch=32</c>); the value is parsed as YAML
/// (<c>betas=[0.9, 0.98]</c> sets a list). Missing mapping keys are created; a loss given as a bare
/// weight (<c>kl: 1.0</c>) becomes <c>{weight: 1.0}</c> when a key under it is set.
/// </summary>
public static class ConfigOverrides
{
    /// <summary>Applies one <c>path=value</c> to <paramref name="root"/> (a mapping).</summary>
    public static void Apply(YamlMappingNode root, string assignment)
    {
        var eq = assignment.IndexOf('=');
        if (eq <= 0)
            throw new DistillSharpException($"--set '{assignment}' must look like path=value, e.g. stages[0].optimizer.lr=3e-5");
        var path = assignment[..eq].Trim();
        var value = ParseValue(assignment[(eq + 1)..], path);
        var segments = Segments(path);

        YamlNode node = root;
        string at = "";
        for (var i = 0; i < segments.Count; i++)
        {
            var (key, index) = segments[i];
            var last = i == segments.Count - 1;
            if (key is not null)
            {
                if (node is YamlScalarNode && i >= 2 && segments[i - 2].Key == "losses")
                    node = Promote(segments, i, at, root);
                if (node is not YamlMappingNode map)
                    throw new ConfigException(at, $"is {YamlValues.Describe(node)}, so --set cannot set '{key}' under it");
                var keyNode = new YamlScalarNode(key);
                if (last) { map.Children[keyNode] = value; return; }
                if (!map.Children.TryGetValue(keyNode, out var child) || YamlValues.IsNull(child))
                    map.Children[keyNode] = child = segments[i + 1].Key is null ? new YamlSequenceNode() : new YamlMappingNode();
                node = child;
                at = YamlValues.Child(at, key);
            }
            else
            {
                if (node is not YamlSequenceNode seq)
                    throw new ConfigException(at, $"is {YamlValues.Describe(node)}, not a list, so --set cannot index it with [{index}]");
                if (index >= seq.Children.Count)
                    throw new ConfigException(YamlValues.Item(at, index!.Value), $"does not exist: {at} has {seq.Children.Count} item(s)");
                if (last) { seq.Children[index!.Value] = value; return; }
                node = seq.Children[index!.Value];
                at = YamlValues.Item(at, index!.Value);
            }
        }
    }

    // A bare loss weight "kl: 1.0" is rewritten as "kl: {weight: 1.0}" so options can be set under it.
    static YamlNode Promote(List<(string? Key, int? Index)> segments, int i, string at, YamlMappingNode root)
    {
        var parentPath = at[..at.LastIndexOf('.')];
        var parent = Find(root, parentPath) as YamlMappingNode;
        var name = new YamlScalarNode(segments[i - 1].Key!);
        var weight = parent!.Children[name];
        var promoted = new YamlMappingNode(new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode("weight"), weight));
        parent.Children[name] = promoted;
        return promoted;
    }

    static YamlNode? Find(YamlNode root, string path)
    {
        YamlNode? node = root;
        foreach (var (key, index) in Segments(path))
            node = key is not null
                ? (node as YamlMappingNode)?.Children.TryGetValue(new YamlScalarNode(key), out var c) == true ? c : null
                : node is YamlSequenceNode s && index < s.Children.Count ? s.Children[index!.Value] : null;
        return node;
    }

    /// <summary>Splits <c>stages[0].losses.kl</c> into key and index segments.</summary>
    static List<(string? Key, int? Index)> Segments(string path)
    {
        var result = new List<(string?, int?)>();
        foreach (var part in path.Split('.'))
        {
            var bracket = part.IndexOf('[');
            var key = bracket < 0 ? part : part[..bracket];
            if (key.Length == 0 && (bracket != 0 || result.Count == 0))
                throw new DistillSharpException($"--set path '{path}' has an empty key; use dots between keys, e.g. data.batch");
            if (key.Length > 0) result.Add((key, null));
            var rest = bracket < 0 ? "" : part[bracket..];
            while (rest.Length > 0)
            {
                var close = rest.IndexOf(']');
                if (rest[0] != '[' || close < 0
                    || !int.TryParse(rest.AsSpan(1, close - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                    throw new DistillSharpException($"--set path '{path}' has a bad index '{rest}'; use key[N] with N >= 0");
                result.Add((null, index));
                rest = rest[(close + 1)..];
            }
        }
        return result;
    }

    static YamlNode ParseValue(string text, string path)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            return stream.Documents.Count == 0 ? new YamlScalarNode("~") : stream.Documents[0].RootNode;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ConfigException(path, $"(from --set) has a value that is not valid YAML: '{text}' ({e.Message})");
        }
    }
}

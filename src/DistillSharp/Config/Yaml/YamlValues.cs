using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config.Yaml;

/// <summary>
/// Typed reads of single YAML nodes. Every error names the path, the bad value and what is
/// allowed; numbers use the invariant culture.
/// </summary>
public static class YamlValues
{
    /// <summary>Joins a parent path and a key: <c>stages[0]</c> + <c>lr</c> → <c>stages[0].lr</c>.</summary>
    public static string Child(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>The path of a list element: <c>stages</c> + 1 → <c>stages[1]</c>.</summary>
    public static string Item(string path, int index) => $"{path}[{index}]";

    /// <summary>A short description of a node for error messages.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        YamlScalarNode s => IsNull(s) ? "null" : $"'{s.Value}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => node.NodeType.ToString(),
    };

    /// <summary>True for <c>~</c>, <c>null</c> and an empty plain scalar.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode s && s.Style is YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any
        && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");

    /// <summary>The scalar's text.</summary>
    public static string String(YamlNode node, string path) =>
        node is YamlScalarNode s && !IsNull(s) ? s.Value! : throw new ConfigException(path, $"must be a string, got {Describe(node)}");

    /// <summary>A finite number.</summary>
    public static double Double(YamlNode node, string path)
    {
        if (node is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            && double.IsFinite(v))
            return v;
        throw new ConfigException(path, $"must be a number, got {Describe(node)}");
    }

    /// <summary>An integer (a float with no fraction is accepted: <c>8e4</c> → 80000).</summary>
    public static int Int(YamlNode node, string path)
    {
        if (node is YamlScalarNode s)
        {
            if (int.TryParse(s.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i)) return i;
            if (double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
                && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue)
                return (int)d;
        }
        throw new ConfigException(path, $"must be an integer, got {Describe(node)}");
    }

    /// <summary><c>true</c> or <c>false</c>.</summary>
    public static bool Bool(YamlNode node, string path) =>
        node is YamlScalarNode { Value: "true" or "True" or "TRUE" } ? true
        : node is YamlScalarNode { Value: "false" or "False" or "FALSE" } ? false
        : throw new ConfigException(path, $"must be true or false, got {Describe(node)}");

    /// <summary>A list node's items with their paths.</summary>
    public static IEnumerable<(YamlNode Node, string Path)> Items(YamlNode node, string path) =>
        node is YamlSequenceNode seq
            ? seq.Children.Select((n, i) => (n, Item(path, i)))
            : throw new ConfigException(path, $"must be a list, got {Describe(node)}");

    /// <summary>Fails unless <paramref name="ok"/>: "<c>path must be RULE, got VALUE</c>".</summary>
    public static T Check<T>(T value, bool ok, string path, string rule) =>
        ok ? value : throw new ConfigException(path, $"must be {rule}, got {Format(value)}");

    /// <summary>A value as YAML would show it.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e"),
        float f => f.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e"),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A plain scalar node holding a number, bool or string.</summary>
    public static YamlScalarNode Scalar(object value) => new(Format(value));

    /// <summary>A flow-style list of scalars, e.g. <c>[0.9, 0.98]</c>.</summary>
    public static YamlSequenceNode FlowList<T>(IEnumerable<T> values)
    {
        var seq = new YamlSequenceNode(values.Select(v => (YamlNode)Scalar(v!)));
        seq.Style = YamlDotNet.Core.Events.SequenceStyle.Flow;
        return seq;
    }
}

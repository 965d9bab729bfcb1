using YamlDotNet.RepresentationModel;

namespace DistillSharp.Config.Yaml;

/// <summary>
/// Reads one YAML mapping key by key. Every key a binder asks for becomes "valid"; after reading,
/// <see cref="RejectUnknown"/> fails on any other key and lists the valid ones — so the list of
/// valid keys can never drift from the binder.
/// </summary>
public sealed class MappingReader
{
    readonly Dictionary<string, YamlNode> entries = new(StringComparer.Ordinal);
    readonly List<string> known = [];

    /// <summary>Wraps <paramref name="node"/>, which must be a mapping with scalar keys.</summary>
    public MappingReader(YamlNode node, string path)
    {
        Path = path;
        if (node is not YamlMappingNode map)
            throw new ConfigException(path, $"must be a mapping, got {YamlValues.Describe(node)}");
        foreach (var (k, v) in map.Children)
        {
            var key = k is YamlScalarNode s && s.Value is { } text ? text
                : throw new ConfigException(path, $"has a key that is not a string: {YamlValues.Describe(k)}");
            if (!entries.TryAdd(key, v))
                throw new ConfigException(YamlValues.Child(path, key), "appears twice");
        }
    }

    /// <summary>The mapping's own path.</summary>
    public string Path { get; }

    /// <summary>The keys present, in document order.</summary>
    public IEnumerable<string> Keys => entries.Keys;

    /// <summary>The path of a key under this mapping.</summary>
    public string PathOf(string key) => YamlValues.Child(Path, key);

    /// <summary>The node under <paramref name="key"/>, or null when absent or null; marks the key valid.</summary>
    public YamlNode? Node(string key)
    {
        if (!known.Contains(key)) known.Add(key);
        return entries.TryGetValue(key, out var n) && !YamlValues.IsNull(n) ? n : null;
    }

    /// <summary>The node under a key that must be present.</summary>
    public YamlNode Required(string key) =>
        Node(key) ?? throw new ConfigException(PathOf(key), "is required");

    /// <summary>A number, checked against a rule such as "&gt; 0".</summary>
    public double Double(string key, double fallback, Func<double, bool>? ok = null, string rule = "") =>
        OptionalDouble(key, ok, rule) ?? fallback;

    /// <summary>A number or null when absent.</summary>
    public double? OptionalDouble(string key, Func<double, bool>? ok = null, string rule = "")
    {
        if (Node(key) is not { } n) return null;
        var v = YamlValues.Double(n, PathOf(key));
        return ok is null ? v : YamlValues.Check(v, ok(v), PathOf(key), rule);
    }

    /// <summary>An integer, checked against a rule such as "&gt;= 1".</summary>
    public int Int(string key, int fallback, Func<int, bool>? ok = null, string rule = "") =>
        OptionalInt(key, ok, rule) ?? fallback;

    /// <summary>An integer or null when absent.</summary>
    public int? OptionalInt(string key, Func<int, bool>? ok = null, string rule = "")
    {
        if (Node(key) is not { } n) return null;
        var v = YamlValues.Int(n, PathOf(key));
        return ok is null ? v : YamlValues.Check(v, ok(v), PathOf(key), rule);
    }

    /// <summary>A boolean.</summary>
    public bool Bool(string key, bool fallback) =>
        Node(key) is { } n ? YamlValues.Bool(n, PathOf(key)) : fallback;

    /// <summary>A string.</summary>
    public string String(string key, string fallback) =>
        Node(key) is { } n ? YamlValues.String(n, PathOf(key)) : fallback;

    /// <summary>One of <paramref name="allowed"/>.</summary>
    public string Choice(string key, string fallback, params string[] allowed)
    {
        if (Node(key) is not { } n) return fallback;
        var v = YamlValues.String(n, PathOf(key));
        return allowed.Contains(v) ? v
            : throw new ConfigException(PathOf(key), $"must be one of {string.Join(", ", allowed)}, got '{v}'");
    }

    /// <summary>A nested mapping, or null when absent.</summary>
    public MappingReader? Mapping(string key) => Node(key) is { } n ? new MappingReader(n, PathOf(key)) : null;

    /// <summary>Fails on the first key no binder asked for, listing the valid keys.</summary>
    public void RejectUnknown()
    {
        foreach (var key in entries.Keys)
            if (!known.Contains(key))
                throw new ConfigException(PathOf(key), $": unknown key '{key}'; valid keys: {string.Join(", ", known)}");
    }
}

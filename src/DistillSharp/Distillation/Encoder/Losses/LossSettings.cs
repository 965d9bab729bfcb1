using DistillSharp.Config.Yaml;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// A term's validated options, every declared key present (defaults filled in). Built by the
/// config binder or by <see cref="LossDefinition.Settings"/> in code.
/// </summary>
public sealed class LossSettings
{
    readonly IReadOnlyDictionary<string, object> values;

    internal LossSettings(string lossName, IReadOnlyDictionary<string, object> values)
    {
        LossName = lossName;
        this.values = values;
    }

    /// <summary>The loss these options belong to.</summary>
    public string LossName { get; }

    /// <summary>All options, by key.</summary>
    public IReadOnlyDictionary<string, object> Values => values;

    /// <summary>A real option.</summary>
    public double Double(string key) => (double)Get(key);

    /// <summary>An integer option.</summary>
    public int Int(string key) => (int)Get(key);

    /// <summary>A boolean option.</summary>
    public bool Bool(string key) => (bool)Get(key);

    /// <summary>A word option.</summary>
    public string String(string key) => (string)Get(key);

    /// <summary>A list-of-words option.</summary>
    public IReadOnlyList<string> Strings(string key) => (IReadOnlyList<string>)Get(key);

    /// <summary>A list-of-integers option.</summary>
    public IReadOnlyList<int> Ints(string key) => (IReadOnlyList<int>)Get(key);

    /// <summary>A layer-map option.</summary>
    public LayerMap LayerMap(string key) => (LayerMap)Get(key);

    object Get(string key) => values.TryGetValue(key, out var v) ? v
        : throw new InvalidOperationException($"loss '{LossName}' has no option '{key}'; it has: {string.Join(", ", values.Keys)}");

    /// <inheritdoc/>
    public override string ToString() =>
        string.Join(", ", values.Select(kv => $"{kv.Key}={YamlValues.Format(kv.Value)}"));
}

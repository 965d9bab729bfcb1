using DistillSharp.Config.Yaml;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// One option of a loss term (<c>temperature</c>, <c>layer_map</c>, …): its default, how it reads
/// from YAML, how it is checked and how it is written back. The registry declares each term's
/// options with these, so binding, validation, <c>ToYaml</c> and docs share one table.
/// </summary>
public abstract record LossParameter(string Key, string Doc)
{
    /// <summary>The value when the config leaves the key out.</summary>
    public abstract object Default { get; }

    /// <summary>Reads and checks a YAML value; errors name <paramref name="path"/>.</summary>
    public abstract object Parse(YamlNode node, string path);

    /// <summary>Checks a value given in code; errors name <paramref name="path"/>.</summary>
    public abstract object Validate(object value, string path);

    /// <summary>The value as a YAML node.</summary>
    public virtual YamlNode Write(object value) => YamlValues.Scalar(value);

    /// <summary>What is allowed, for docs and errors ("&gt; 0", "one of auto, always").</summary>
    public abstract string Rule { get; }
}

/// <summary>A real number within bounds.</summary>
public sealed record DoubleParameter(string Key, double DefaultValue, double Min, double Max, bool MinInclusive, bool MaxInclusive, string Doc)
    : LossParameter(Key, Doc)
{
    /// <summary>A number &gt; 0.</summary>
    public static DoubleParameter Positive(string key, double defaultValue, string doc) =>
        new(key, defaultValue, 0, double.PositiveInfinity, false, false, doc);

    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule =>
        double.IsPositiveInfinity(Max) ? (MinInclusive ? $">= {YamlValues.Format(Min)}" : $"> {YamlValues.Format(Min)}")
        : $"in {(MinInclusive ? "[" : "(")}{YamlValues.Format(Min)}, {YamlValues.Format(Max)}{(MaxInclusive ? "]" : ")")}";

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) => Validate(YamlValues.Double(node, path), path);

    /// <inheritdoc/>
    public override object Validate(object value, string path)
    {
        var v = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        var ok = (MinInclusive ? v >= Min : v > Min) && (MaxInclusive ? v <= Max : v < Max);
        return YamlValues.Check(v, ok, path, Rule);
    }
}

/// <summary>An integer ≥ <see cref="Min"/>.</summary>
public sealed record IntParameter(string Key, int DefaultValue, int Min, string Doc) : LossParameter(Key, Doc)
{
    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule => Min == int.MinValue ? "an integer" : $"an integer >= {Min}";

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) => Validate(YamlValues.Int(node, path), path);

    /// <inheritdoc/>
    public override object Validate(object value, string path) =>
        value is int i ? YamlValues.Check(i, i >= Min, path, Rule)
        : throw new ConfigException(path, $"must be {Rule}, got {YamlValues.Format(value)}");
}

/// <summary>true or false.</summary>
public sealed record BoolParameter(string Key, bool DefaultValue, string Doc) : LossParameter(Key, Doc)
{
    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule => "true or false";

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) => YamlValues.Bool(node, path);

    /// <inheritdoc/>
    public override object Validate(object value, string path) =>
        value is bool b ? b : throw new ConfigException(path, $"must be {Rule}, got {YamlValues.Format(value)}");
}

/// <summary>One word out of a fixed set.</summary>
public sealed record ChoiceParameter(string Key, string DefaultValue, IReadOnlyList<string> Allowed, string Doc) : LossParameter(Key, Doc)
{
    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule => $"one of {string.Join(", ", Allowed)}";

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) => Validate(YamlValues.String(node, path), path);

    /// <inheritdoc/>
    public override object Validate(object value, string path) =>
        value is string s && Allowed.Contains(s) ? s
        : throw new ConfigException(path, $"must be {Rule}, got '{YamlValues.Format(value)}'");
}

/// <summary>A non-empty list of distinct words out of a fixed set.</summary>
public sealed record ChoiceListParameter(string Key, IReadOnlyList<string> DefaultValue, IReadOnlyList<string> Allowed, string Doc)
    : LossParameter(Key, Doc)
{
    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule => $"a non-empty list of distinct items from {string.Join(", ", Allowed)}";

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) =>
        Validate(YamlValues.Items(node, path).Select(x => YamlValues.String(x.Node, x.Path)).ToList(), path);

    /// <inheritdoc/>
    public override object Validate(object value, string path)
    {
        var list = (value as IEnumerable<string>)?.ToList();
        var ok = list is { Count: > 0 } && list.All(Allowed.Contains) && list.Distinct().Count() == list.Count;
        return ok ? list! : throw new ConfigException(path,
            $"must be {Rule}, got [{string.Join(", ", list ?? [])}]");
    }

    /// <inheritdoc/>
    public override YamlNode Write(object value) => YamlValues.FlowList((IReadOnlyList<string>)value);
}

/// <summary>A non-empty list of distinct integers ≥ <see cref="Min"/> (matryoshka's <c>dims</c>).</summary>
public sealed record IntListParameter(string Key, IReadOnlyList<int> DefaultValue, int Min, string Doc) : LossParameter(Key, Doc)
{
    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule => $"a non-empty list of distinct integers >= {Min}";

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) =>
        Validate(YamlValues.Items(node, path).Select(x => YamlValues.Int(x.Node, x.Path)).ToList(), path);

    /// <inheritdoc/>
    public override object Validate(object value, string path)
    {
        var list = (value as IEnumerable<int>)?.ToList();
        var ok = list is { Count: > 0 } && list.All(i => i >= Min) && list.Distinct().Count() == list.Count;
        return ok ? list! : throw new ConfigException(path,
            $"must be {Rule}, got {(list is null ? YamlValues.Format(value) : $"[{string.Join(", ", list)}]")}");
    }

    /// <inheritdoc/>
    public override YamlNode Write(object value) => YamlValues.FlowList((IReadOnlyList<int>)value);
}

/// <summary>A student→teacher layer map (see <see cref="LayerMap"/>).</summary>
public sealed record LayerMapParameter(string Key, LayerMap DefaultValue, string Doc) : LossParameter(Key, Doc)
{
    /// <inheritdoc/>
    public override object Default => DefaultValue;

    /// <inheritdoc/>
    public override string Rule => LayerMap.Rule;

    /// <inheritdoc/>
    public override object Parse(YamlNode node, string path) => LayerMap.Parse(node, path);

    /// <inheritdoc/>
    public override object Validate(object value, string path) =>
        value as LayerMap ?? throw new ConfigException(path, $"must be {Rule}, got {YamlValues.Format(value)}");

    /// <inheritdoc/>
    public override YamlNode Write(object value) => ((LayerMap)value).ToYaml();
}

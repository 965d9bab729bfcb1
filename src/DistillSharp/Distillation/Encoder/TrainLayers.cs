using System.Globalization;
using YamlDotNet.RepresentationModel;
using DistillSharp.Config.Yaml;

namespace DistillSharp.Distillation.Encoder;

/// <summary>
/// Which student parameters a stage trains (progressive distillation freezes the rest). YAML:
/// <c>all</c>, or one selector or a list of selectors: <c>embeddings</c>, <c>head</c> (everything
/// outside embeddings and encoder layers: pooler, classifier, LM head), a layer index <c>0</c>, or
/// <c>encoder.layer.N</c> / <c>encoder.layer.A-B</c> (0-based, inclusive).
/// </summary>
public sealed record TrainLayers
{
    /// <summary>The accepted forms, for errors.</summary>
    public const string Rule = "all, embeddings, head, a layer index, encoder.layer.N, encoder.layer.A-B, or a list of these";

    /// <summary>Every parameter trains.</summary>
    public static TrainLayers Everything { get; } = new() { All = true };

    /// <summary>Every parameter trains.</summary>
    public bool All { get; init; }

    /// <summary>The embedding parameters train.</summary>
    public bool Embeddings { get; init; }

    /// <summary>The head (pooler, classifier, LM head) trains.</summary>
    public bool Head { get; init; }

    /// <summary>0-based encoder layers that train.</summary>
    public IReadOnlySet<int> Layers { get; init; } = new SortedSet<int>();

    /// <summary>
    /// Whether a parameter named like the HF checkpoint keys (<c>embeddings.word_embeddings.weight</c>,
    /// <c>encoder.layer.3.attention.self.query.weight</c>, <c>pooler.dense.weight</c>) trains.
    /// </summary>
    public bool Trains(string parameterName)
    {
        if (All) return true;
        var name = parameterName.StartsWith("bert.", StringComparison.Ordinal) ? parameterName[5..] : parameterName;
        if (name.StartsWith("embeddings.", StringComparison.Ordinal)) return Embeddings;
        if (name.StartsWith("encoder.layer.", StringComparison.Ordinal))
        {
            var rest = name["encoder.layer.".Length..];
            var dot = rest.IndexOf('.');
            return int.TryParse(dot < 0 ? rest : rest[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out var layer)
                && Layers.Contains(layer);
        }
        return Head;
    }

    /// <summary>Reads the YAML forms; layer indices must be below <paramref name="studentLayers"/>.</summary>
    public static TrainLayers Parse(YamlNode node, string path, int studentLayers)
    {
        var items = node is YamlSequenceNode ? YamlValues.Items(node, path).ToList() : [(node, path)];
        if (items.Count == 0) throw new ConfigException(path, $"must be {Rule}, got an empty list");
        bool all = false, embeddings = false, head = false;
        var layers = new SortedSet<int>();
        foreach (var (item, itemPath) in items)
        {
            var text = YamlValues.String(item, itemPath);
            switch (text)
            {
                case "all": all = true; break;
                case "embeddings": embeddings = true; break;
                case "head": head = true; break;
                default:
                    var (from, to) = LayerRange(text) ?? throw new ConfigException(itemPath, $"must be {Rule}, got '{text}'");
                    if (to >= studentLayers)
                        throw new ConfigException(itemPath, $"must name layers 0..{studentLayers - 1} (student.layers is {studentLayers}), got '{text}'");
                    for (var l = from; l <= to; l++) layers.Add(l);
                    break;
            }
        }
        return all ? Everything : new TrainLayers { Embeddings = embeddings, Head = head, Layers = layers };
    }

    static (int From, int To)? LayerRange(string text)
    {
        var spec = text.StartsWith("encoder.layer.", StringComparison.Ordinal) ? text["encoder.layer.".Length..] : text;
        var dash = spec.IndexOf('-');
        if (dash < 0)
            return int.TryParse(spec, NumberStyles.None, CultureInfo.InvariantCulture, out var one) ? (one, one) : null;
        return int.TryParse(spec[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var a)
            && int.TryParse(spec[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var b) && a <= b
            ? (a, b) : null;
    }

    /// <summary>The YAML form: <c>all</c> or a flow list of selectors.</summary>
    public YamlNode ToYaml() => All ? new YamlScalarNode("all")
        : YamlValues.FlowList((Embeddings ? ["embeddings"] : Array.Empty<string>())
            .Concat(Layers.Select(l => l.ToString(CultureInfo.InvariantCulture)))
            .Concat(Head ? ["head"] : Array.Empty<string>()));

    /// <inheritdoc/>
    public override string ToString() => All ? "all"
        : string.Join(", ", (Embeddings ? ["embeddings"] : Array.Empty<string>()).Concat(Layers.Select(l => $"encoder.layer.{l}")).Concat(Head ? ["head"] : Array.Empty<string>()));
}

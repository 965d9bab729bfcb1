using DistillSharp.Config.Yaml;
using YamlDotNet.RepresentationModel;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// Which student layer learns from which teacher layer. Layers are 0-based transformer layers
/// (layer l's output is <c>HiddenStates[l + 1]</c>, its attention <c>Attentions[l]</c>).
/// <list type="bullet">
/// <item><c>uniform</c>: student layer i ↔ teacher layer round((i+1)·Lt/Ls) − 1, i.e. in
/// 1-based numbering s ↔ round(s·Lt/Ls) (TinyBERT's g(m) = m·N/M), rounding halves away from
/// zero; the last layers always pair up.</item>
/// <item><c>last-k</c>: the last k student layers ↔ the last k teacher layers, in order.</item>
/// <item>explicit pairs <c>[[s, t], …]</c>.</item>
/// </list>
/// </summary>
public sealed record LayerMap
{
    /// <summary>The accepted YAML forms.</summary>
    public const string Rule = "uniform, last-K (K >= 1) or a list of [student, teacher] layer pairs";

    LayerMap(string kind, int k, IReadOnlyList<(int Student, int Teacher)> pairs)
    {
        Kind = kind;
        K = k;
        Pairs = pairs;
    }

    /// <summary>"uniform", "last" or "pairs".</summary>
    public string Kind { get; }

    /// <summary>K of last-K.</summary>
    public int K { get; }

    /// <summary>The explicit pairs (empty unless Kind is "pairs").</summary>
    public IReadOnlyList<(int Student, int Teacher)> Pairs { get; }

    /// <summary>Every student layer to its proportional teacher layer.</summary>
    public static LayerMap Uniform { get; } = new("uniform", 0, []);

    /// <summary>The last <paramref name="k"/> layers of each model, in order.</summary>
    public static LayerMap Last(int k) =>
        k >= 1 ? new("last", k, []) : throw new ArgumentOutOfRangeException(nameof(k), k, "last-K needs K >= 1");

    /// <summary>Explicit (student, teacher) pairs.</summary>
    public static LayerMap Explicit(params (int Student, int Teacher)[] pairs) =>
        pairs.Length > 0 ? new("pairs", 0, pairs) : throw new ArgumentException("a layer map needs at least one pair", nameof(pairs));

    /// <summary>
    /// The concrete pairs for a student with <paramref name="studentLayers"/> and a teacher with
    /// <paramref name="teacherLayers"/> layers; fails naming the loss when a layer does not exist.
    /// </summary>
    public IReadOnlyList<(int Student, int Teacher)> Resolve(int studentLayers, int teacherLayers, string owner)
    {
        IReadOnlyList<(int, int)> pairs = Kind switch
        {
            "uniform" => Enumerable.Range(0, studentLayers)
                .Select(i => (i, Math.Max(1, (int)Math.Round((i + 1) * (double)teacherLayers / studentLayers, MidpointRounding.AwayFromZero)) - 1))
                .ToList(),
            "last" when K <= Math.Min(studentLayers, teacherLayers) =>
                Enumerable.Range(0, K).Select(j => (studentLayers - K + j, teacherLayers - K + j)).ToList(),
            "last" => throw new DistillSharpException(
                $"{owner}: layer map last-{K} needs at least {K} layers, but the student has {studentLayers} and the teacher {teacherLayers}"),
            _ => Pairs,
        };
        foreach (var (s, t) in pairs)
            if (s < 0 || s >= studentLayers || t < 0 || t >= teacherLayers)
                throw new DistillSharpException(
                    $"{owner}: layer pair [{s}, {t}] is out of range; student layers are 0..{studentLayers - 1}, teacher layers 0..{teacherLayers - 1}");
        return pairs;
    }

    /// <summary>Reads <c>uniform</c>, <c>last-2</c> or <c>[[0, 1], [2, 5]]</c>.</summary>
    public static LayerMap Parse(YamlNode node, string path)
    {
        if (node is YamlSequenceNode)
        {
            var pairs = YamlValues.Items(node, path).Select(item =>
            {
                var xs = YamlValues.Items(item.Node, item.Path).Select(x => YamlValues.Int(x.Node, x.Path)).ToList();
                return xs is [var s, var t] && s >= 0 && t >= 0 ? (s, t)
                    : throw new ConfigException(item.Path, $"must be a [student, teacher] pair of layer indices >= 0, got [{string.Join(", ", xs)}]");
            }).ToArray();
            return pairs.Length > 0 ? Explicit(pairs) : throw new ConfigException(path, $"must be {Rule}, got an empty list");
        }
        var text = YamlValues.String(node, path);
        if (text == "uniform") return Uniform;
        if (text.StartsWith("last-", StringComparison.Ordinal) && int.TryParse(text.AsSpan(5), out var k) && k >= 1) return Last(k);
        throw new ConfigException(path, $"must be {Rule}, got '{text}'");
    }

    /// <summary>The YAML form <see cref="Parse"/> reads back.</summary>
    public YamlNode ToYaml()
    {
        if (Kind == "uniform") return new YamlScalarNode("uniform");
        if (Kind == "last") return new YamlScalarNode($"last-{K}");
        var seq = new YamlSequenceNode(Pairs.Select(p => (YamlNode)YamlValues.FlowList(new[] { p.Student, p.Teacher })));
        seq.Style = YamlDotNet.Core.Events.SequenceStyle.Flow;
        return seq;
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        "uniform" => "uniform",
        "last" => $"last-{K}",
        _ => "[" + string.Join(", ", Pairs.Select(p => $"[{p.Student}, {p.Teacher}]")) + "]",
    };
}

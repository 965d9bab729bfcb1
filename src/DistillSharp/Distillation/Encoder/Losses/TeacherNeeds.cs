using DistillSharp.Models.Encoder;

namespace DistillSharp.Distillation.Encoder.Losses;

/// <summary>
/// The model outputs a loss term reads (from teacher and student alike). The teacher cache stores
/// only the union over a stage's terms. Layer numbers follow <see cref="Models.ModelOutput"/>:
/// hidden-state indices run 0 (embeddings) … L; attention, query, key and value indices run 0 … L−1.
/// </summary>
public sealed record TeacherNeeds
{
    /// <summary>Nothing at all.</summary>
    public static TeacherNeeds None { get; } = new();

    /// <summary>Logits.</summary>
    public bool Logits { get; init; }

    /// <summary>The pooled embedding.</summary>
    public bool Pooled { get; init; }

    /// <summary>Hidden-state indices (0 = embedding output).</summary>
    public IReadOnlySet<int> HiddenStates { get; init; } = new SortedSet<int>();

    /// <summary>Attention-probability layers.</summary>
    public IReadOnlySet<int> Attentions { get; init; } = new SortedSet<int>();

    /// <summary>Query layers.</summary>
    public IReadOnlySet<int> Queries { get; init; } = new SortedSet<int>();

    /// <summary>Key layers.</summary>
    public IReadOnlySet<int> Keys { get; init; } = new SortedSet<int>();

    /// <summary>Value layers.</summary>
    public IReadOnlySet<int> Values { get; init; } = new SortedSet<int>();

    /// <summary>The per-layer part, as a teacher engine (<see cref="ITeacherForward"/>) is asked for it.</summary>
    public TeacherOutputs Outputs => new(HiddenStates, Attentions, Queries, Keys, Values);

    /// <summary>True when nothing is needed (the set members make record equality compare references, so test this instead).</summary>
    public bool IsEmpty => !Logits && !Pooled && HiddenStates.Count + Attentions.Count + Queries.Count + Keys.Count + Values.Count == 0;

    /// <summary>Everything either side needs.</summary>
    public TeacherNeeds Union(TeacherNeeds other) => new()
    {
        Logits = Logits || other.Logits,
        Pooled = Pooled || other.Pooled,
        HiddenStates = Merge(HiddenStates, other.HiddenStates),
        Attentions = Merge(Attentions, other.Attentions),
        Queries = Merge(Queries, other.Queries),
        Keys = Merge(Keys, other.Keys),
        Values = Merge(Values, other.Values),
    };

    /// <summary>The union over several terms' needs.</summary>
    public static TeacherNeeds Of(IEnumerable<ILossTerm> terms) =>
        terms.Aggregate(None, (acc, t) => acc.Union(t.Needs));

    /// <summary>A sorted set of layer numbers.</summary>
    public static IReadOnlySet<int> Layers(params IEnumerable<int> layers) => new SortedSet<int>(layers);

    static SortedSet<int> Merge(IReadOnlySet<int> a, IReadOnlySet<int> b) => new(a.Concat(b));

    /// <inheritdoc/>
    public override string ToString()
    {
        var parts = new List<string>();
        if (Logits) parts.Add("logits");
        if (Pooled) parts.Add("pooled");
        void Add(string n, IReadOnlySet<int> s) { if (s.Count > 0) parts.Add($"{n}[{string.Join(",", s)}]"); }
        Add("hidden", HiddenStates); Add("attentions", Attentions);
        Add("queries", Queries); Add("keys", Keys); Add("values", Values);
        return parts.Count == 0 ? "nothing" : string.Join(" ", parts);
    }
}

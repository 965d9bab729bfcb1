namespace DistillSharp.Models.Encoder;

/// <summary>
/// Which of a teacher's per-layer outputs a distillation stage reads (hidden state 0 = the embedding
/// output, hidden state L = the last layer's; attention and Q/K/V layers 0 … L − 1). The last hidden
/// state is always produced: the pooled embedding is computed from it.
/// </summary>
public sealed record TeacherOutputs(IReadOnlySet<int> HiddenStates, IReadOnlySet<int> Attentions, IReadOnlySet<int> Queries,
    IReadOnlySet<int> Keys, IReadOnlySet<int> Values)
{
    /// <summary>Everything a teacher of <paramref name="layers"/> layers has, Q/K/V included or not.</summary>
    public static TeacherOutputs All(int layers, bool withQkv)
    {
        var l = Enumerable.Range(0, layers).ToHashSet();
        var none = new HashSet<int>();
        return new(Enumerable.Range(0, layers + 1).ToHashSet(), l, withQkv ? l : none, withQkv ? l : none, withQkv ? l : none);
    }

    /// <summary>True when any query, key or value layer is wanted.</summary>
    public bool AnyQkv => Queries.Count + Keys.Count + Values.Count > 0;

    /// <summary>Throws <see cref="DistillSharpException"/> when a layer index is outside a teacher of <paramref name="layers"/> layers.</summary>
    public TeacherOutputs Validate(int layers)
    {
        void Check(string what, IReadOnlySet<int> set, int count)
        {
            foreach (int i in set)
                if ((uint)i >= (uint)count) throw new DistillSharpException($"teacher output {what} {i} does not exist: the teacher has {count} (0 … {count - 1})");
        }
        Check("hidden state", HiddenStates, layers + 1);
        Check("attention layer", Attentions, layers);
        Check("query layer", Queries, layers);
        Check("key layer", Keys, layers);
        Check("value layer", Values, layers);
        return this;
    }
}

namespace DistillSharp.Data.Labelled;

/// <summary>One labelled text.</summary>
/// <param name="Id">Unique, stable id (synset id, mail id, file row); splits order by it.</param>
/// <param name="Text">The text.</param>
/// <param name="Label">Its label name.</param>
public sealed record LabelledText(string Id, string Text, string Label);

/// <summary>
/// Labelled texts and the label names in class-id order, with what building it dropped (every drop
/// is counted and named in <see cref="Notes"/>, never silent).
/// </summary>
/// <param name="Name">Source name or file path.</param>
/// <param name="Items">The texts, in a fixed order.</param>
/// <param name="Labels">Label names by class id.</param>
/// <param name="Notes">What was dropped or changed and why, one line each.</param>
public sealed record LabelledDataset(string Name, IReadOnlyList<LabelledText> Items, IReadOnlyList<string> Labels, IReadOnlyList<string> Notes)
{
    /// <summary>Examples per label, in label order.</summary>
    public IReadOnlyList<(string Label, int Count)> ClassCounts()
    {
        var counts = Items.GroupBy(i => i.Label).ToDictionary(g => g.Key, g => g.Count());
        return Labels.Select(l => (l, counts.GetValueOrDefault(l))).ToList();
    }

    /// <summary>
    /// Checks that ids are unique, every item's label is one of <see cref="Labels"/> (an unknown label
    /// names the item) and every label has at least one example (an empty class names the label).
    /// </summary>
    public LabelledDataset Validate()
    {
        if (Labels.Count < 2) throw new DistillSharpException($"{Name}: a classification dataset needs at least 2 labels, got {Labels.Count}");
        var known = new HashSet<string>(Labels, StringComparer.Ordinal);
        if (known.Count != Labels.Count) throw new DistillSharpException($"{Name}: the label list names a label twice");
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in Items)
        {
            if (!ids.Add(item.Id)) throw new DistillSharpException($"{Name}: id '{item.Id}' appears twice");
            if (!known.Contains(item.Label))
                throw new DistillSharpException($"{Name} {item.Id}: unknown label '{item.Label}'; known labels: {string.Join(", ", Labels)}");
        }
        var empty = ClassCounts().Where(c => c.Count == 0).Select(c => c.Label).ToList();
        if (empty.Count > 0)
            throw new DistillSharpException($"{Name}: class{(empty.Count > 1 ? "es" : "")} {string.Join(", ", empty.Select(e => $"'{e}'"))} {(empty.Count > 1 ? "have" : "has")} no examples");
        return this;
    }

    /// <summary>
    /// One item per text (texts compared by <see cref="DataSplits.Key"/>): of equal texts with one
    /// label the first (by id) is kept; equal texts with different labels are all dropped, as no
    /// split could hold them without leaking or contradicting. Both counts go to <see cref="Notes"/>.
    /// </summary>
    public LabelledDataset Deduplicated()
    {
        var kept = new List<LabelledText>();
        int duplicates = 0, conflicting = 0;
        foreach (var group in Items.GroupBy(i => DataSplits.Key(i.Text)))
        {
            var members = group.OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
            if (members.Select(m => m.Label).Distinct().Count() > 1) conflicting += members.Count;
            else
            {
                kept.Add(members[0]);
                duplicates += members.Count - 1;
            }
        }
        var notes = Notes.ToList();
        if (duplicates > 0) notes.Add($"{duplicates} texts dropped that repeat another text with the same label");
        if (conflicting > 0) notes.Add($"{conflicting} texts dropped whose identical text carries different labels");
        var order = Items.Select((item, i) => (item.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        return this with { Items = kept.OrderBy(i => order[i.Id]).ToList(), Notes = notes };
    }
}

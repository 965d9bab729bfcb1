namespace DistillSharp.Data.Labelled;

/// <summary>
/// Keeps held-out texts out of training: texts are compared by <see cref="DataSplits.Key"/>
/// (whitespace-collapsed, lower-case). <see cref="Filter"/> drops held-out texts from an unlabelled
/// corpus (counted); <see cref="Verify"/> is the final guard that no test text equals any text a
/// model is trained on.
/// </summary>
public static class LeakageCheck
{
    /// <summary><paramref name="corpus"/> without any text equal to one of <paramref name="heldOut"/>; also returns how many were dropped.</summary>
    public static (IReadOnlyList<string> Kept, int Dropped) Filter(IReadOnlyList<string> corpus, IEnumerable<LabelledText> heldOut)
    {
        var keys = heldOut.Select(i => DataSplits.Key(i.Text)).ToHashSet();
        var kept = corpus.Where(t => !keys.Contains(DataSplits.Key(t))).ToList();
        return (kept, corpus.Count - kept.Count);
    }

    /// <summary>
    /// Throws when a text of <paramref name="test"/> equals a text of one of the
    /// <paramref name="training"/> sets (named in the message); returns how many training texts were checked.
    /// </summary>
    public static long Verify(IReadOnlyList<LabelledText> test, params (string Name, IEnumerable<string> Texts)[] training)
    {
        var keys = test.GroupBy(i => DataSplits.Key(i.Text)).ToDictionary(g => g.Key, g => g.First().Id);
        long checkedTexts = 0;
        foreach (var (name, texts) in training)
            foreach (string text in texts)
            {
                checkedTexts++;
                if (keys.TryGetValue(DataSplits.Key(text), out var id))
                    throw new DistillSharpException($"leak: test text {id} (\"{Preview(text)}\") is also in the {name} texts");
            }
        return checkedTexts;
    }

    static string Preview(string text) => text.Length <= 60 ? text : text[..57] + "…";
}

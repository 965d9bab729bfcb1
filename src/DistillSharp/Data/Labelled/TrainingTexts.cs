using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Data.Labelled;

/// <summary>
/// What a classifier trains on: texts and, per text, a class id or <see cref="Unlabelled"/>
/// (a distillation text the teacher labels; the task loss skips it).
/// </summary>
/// <param name="Texts">The texts, in a fixed order (the batcher's example ids index them).</param>
/// <param name="Labels">Class id per text, or <see cref="Unlabelled"/>.</param>
public sealed record TrainingTexts(IReadOnlyList<string> Texts, IReadOnlyList<long> Labels)
{
    /// <summary>The label of a text without one (PyTorch's ignore index, as <c>LossBatch.IgnoreIndex</c>).</summary>
    public const long Unlabelled = -100;

    /// <summary>Texts with a label.</summary>
    public int LabelledCount => Labels.Count(l => l != Unlabelled);

    /// <summary>The labelled training texts of <paramref name="split"/>.</summary>
    public static TrainingTexts Labelled(LabelledSplit split)
    {
        var ids = split.ClassIds(split.Train);
        return new TrainingTexts(split.Train.Select(t => t.Text).ToList(), ids.Select(i => (long)i).ToList());
    }

    /// <summary>
    /// The labelled training texts followed by <paramref name="unlabelled"/> texts: every text equal
    /// (<see cref="DataSplits.Key"/>) to a dev or test text, or to an earlier text, is dropped — the
    /// returned count says how many equalled a dev or test text.
    /// </summary>
    public static (TrainingTexts Texts, int DroppedHeldOut) WithUnlabelled(LabelledSplit split, IEnumerable<string> unlabelled)
    {
        var labelled = Labelled(split);
        var heldOut = split.Dev.Concat(split.Test).Select(t => DataSplits.Key(t.Text)).ToHashSet();
        var seen = labelled.Texts.Select(DataSplits.Key).ToHashSet();
        var texts = labelled.Texts.ToList();
        var labels = labelled.Labels.ToList();
        int dropped = 0;
        foreach (string text in unlabelled)
        {
            string key = DataSplits.Key(text);
            if (key.Length == 0) continue;
            if (heldOut.Contains(key)) { dropped++; continue; }
            if (!seen.Add(key)) continue;
            texts.Add(text);
            labels.Add(Unlabelled);
        }
        return (new TrainingTexts(texts, labels), dropped);
    }

    /// <summary>How many of <paramref name="texts"/> have more tokens than <paramref name="tokenizer"/> keeps (they are truncated).</summary>
    public static int Truncated(IEnumerable<string> texts, BertTextTokenizer tokenizer) =>
        texts.Count(t => tokenizer.TokenCount(t) > tokenizer.MaxLength);
}

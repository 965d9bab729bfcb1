using DistillSharp.Config.Classifier;
using DistillSharp.Data;
using DistillSharp.Data.Labelled;
using DistillSharp.Reports.Classifier;
using DistillSharp.Runtime;
using DistillSharp.Runtime.Tokenization;

namespace DistillSharp.Pipeline.Classifier;

/// <summary>
/// The data of a classification run: the seeded stratified split, the labelled training texts (the
/// teacher's fine-tuning and baseline_ce train on them), the student's distillation corpus (the same
/// labelled texts plus the configured unlabelled ones, held-out texts removed), the truncation counts
/// and the leakage check of every test text against every training text.
/// </summary>
public sealed class ClassifyRunData
{
    ClassifyRunData(LabelledSplit split, TrainingTexts labelled, TrainingTexts student, int droppedHeldOut)
    {
        Split = split;
        Labelled = labelled;
        Student = student;
        DroppedHeldOut = droppedHeldOut;
    }

    /// <summary>The split (labels, train, dev, test).</summary>
    public LabelledSplit Split { get; }
    /// <summary>The labelled training texts.</summary>
    public TrainingTexts Labelled { get; }
    /// <summary>The student's distillation corpus: labelled texts, then unlabelled ones.</summary>
    public TrainingTexts Student { get; }
    /// <summary>Unlabelled texts dropped because they equal a dev or test text.</summary>
    public int DroppedHeldOut { get; }
    /// <summary>Test texts.</summary>
    public IReadOnlyList<string> TestTexts => Split.Test.Select(t => t.Text).ToList();
    /// <summary>Test class ids.</summary>
    public int[] TestLabels => Split.ClassIds(Split.Test);

    /// <summary>Loads (fetching on first use), splits and builds the corpora <paramref name="data"/> asks for.</summary>
    public static ClassifyRunData Load(ClassifyDataConfig data, TextWriter log)
    {
        var split = LabelledSources.LoadSplit(data.Options(), log);
        var labelled = TrainingTexts.Labelled(split);
        var unlabelled = Unlabelled(data, split);
        var (student, dropped) = TrainingTexts.WithUnlabelled(split, unlabelled);
        foreach (string note in split.Notes) log.WriteLine($"data: {note}");
        log.WriteLine($"data: {split.Labels.Count} labels; {split.Train.Count:N0} train / {split.Dev.Count:N0} dev / {split.Test.Count:N0} test; " +
                      $"student corpus {student.Texts.Count:N0} texts ({student.LabelledCount:N0} labelled)");
        return new ClassifyRunData(split, labelled, student, dropped);
    }

    static IReadOnlyList<string> Unlabelled(ClassifyDataConfig data, LabelledSplit split)
    {
        IReadOnlyList<string> texts = data.Unlabelled switch
        {
            "none" => [],
            "rest" => (split.Unlabelled ?? []).Select(t => t.Text).ToList(),
            var path => TextSource.Load(path),
        };
        if (data.MaxUnlabelled is int cap && texts.Count > cap)
            texts = new SplitMix64(data.SplitSeed + 17).Shuffled(texts).Take(cap).ToList();
        return texts;
    }

    /// <summary>
    /// Counts texts longer than <paramref name="tokenizer"/> keeps in each part and checks that no test text
    /// equals a training text of any model; returns the data section of the report.
    /// </summary>
    public ClassifyDataReport Report(string source, BertTextTokenizer tokenizer, IReadOnlyList<string> notes)
    {
        long checkedTexts = LeakageCheck.Verify(Split.Test, ("labelled training", Labelled.Texts), ("distillation corpus", Student.Texts),
            ("dev", Split.Dev.Select(t => t.Text)));
        var truncated = new Dictionary<string, int>
        {
            ["train"] = TrainingTexts.Truncated(Labelled.Texts, tokenizer),
            ["dev"] = TrainingTexts.Truncated(Split.Dev.Select(t => t.Text), tokenizer),
            ["test"] = TrainingTexts.Truncated(TestTexts, tokenizer),
            ["unlabelled"] = TrainingTexts.Truncated(Student.Texts.Skip(Labelled.Texts.Count), tokenizer),
        };
        var counts = Split.ClassCounts().Select(c => new ClassCount(c.Label, c.Train, c.Dev, c.Test)).ToList();
        return new ClassifyDataReport(source, Split.Labels, counts, tokenizer.MaxLength, truncated, Student.Texts.Count, DroppedHeldOut, checkedTexts,
            Split.Notes.Concat(notes).ToList());
    }
}

using DistillSharp.Runtime;

namespace DistillSharp.Data.Labelled;

/// <summary>A labelled dataset split three ways, each part in id order.</summary>
/// <param name="Labels">Label names by class id.</param>
/// <param name="Train">Training texts (fine-tuning, the CE baseline, the student's labels).</param>
/// <param name="Dev">Development texts (model selection; never trained on).</param>
/// <param name="Test">Held-out texts every reported metric is computed on.</param>
/// <param name="Notes">How the split was made and what it left out.</param>
/// <param name="Unlabelled">Training-side texts beyond the labelled budget (their labels are not used): what a
/// distillation corpus may add as unlabelled text.</param>
public sealed record LabelledSplit(IReadOnlyList<string> Labels, IReadOnlyList<LabelledText> Train, IReadOnlyList<LabelledText> Dev,
    IReadOnlyList<LabelledText> Test, IReadOnlyList<string> Notes, IReadOnlyList<LabelledText>? Unlabelled = null)
{
    /// <summary>Class ids of <paramref name="items"/>, by <see cref="Labels"/>.</summary>
    public int[] ClassIds(IReadOnlyList<LabelledText> items)
    {
        var ids = Labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => x.i, StringComparer.Ordinal);
        return items.Select(i => ids[i.Label]).ToArray();
    }

    /// <summary>Examples per label in each part: (label, train, dev, test).</summary>
    public IReadOnlyList<(string Label, int Train, int Dev, int Test)> ClassCounts()
    {
        int Count(IReadOnlyList<LabelledText> part, string label) => part.Count(i => i.Label == label);
        return Labels.Select(l => (l, Count(Train, l), Count(Dev, l), Count(Test, l))).ToList();
    }
}

/// <summary>
/// Seeded stratified train/dev/test splits: per label (in label order) the items sorted by id are
/// shuffled with one <see cref="SplitMix64"/> stream; the first round(test × n) go to test, the next
/// round(dev × n) to dev (at least one each), the rest to train. Optionally the train part is then
/// cut to a size, again per label in proportion (at least one per label) — the labelled budget.
/// </summary>
public static class StratifiedSplit
{
    /// <summary>Splits <paramref name="dataset"/>; a label with fewer than 3 examples cannot be stratified and names itself.</summary>
    public static LabelledSplit Split(LabelledDataset dataset, double devFraction, double testFraction, ulong seed, int? maxTrain = null)
    {
        if (devFraction <= 0 || testFraction <= 0 || devFraction + testFraction >= 1)
            throw new DistillSharpException($"{dataset.Name}: dev ({devFraction}) and test ({testFraction}) fractions must be > 0 with a sum below 1");
        if (maxTrain is int cap && cap < dataset.Labels.Count)
            throw new DistillSharpException($"{dataset.Name}: a training budget of {cap} cannot hold one example of each of {dataset.Labels.Count} labels");
        var random = new SplitMix64(seed);
        var train = new List<LabelledText>();
        var dev = new List<LabelledText>();
        var test = new List<LabelledText>();
        foreach (string label in dataset.Labels)
        {
            var members = dataset.Items.Where(i => i.Label == label).OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
            if (members.Count < 3)
                throw new DistillSharpException($"{dataset.Name}: class '{label}' has {members.Count} example(s); a stratified train/dev/test split needs at least 3");
            var shuffled = random.Shuffled(members);
            int nTest = Math.Max(1, Round(testFraction * members.Count));
            int nDev = Math.Max(1, Math.Min(members.Count - nTest - 1, Round(devFraction * members.Count)));
            test.AddRange(shuffled.Take(nTest));
            dev.AddRange(shuffled.Skip(nTest).Take(nDev));
            train.AddRange(shuffled.Skip(nTest + nDev));
        }
        var notes = new List<string>
        {
            $"stratified split, seed {seed}: {train.Count} train / {dev.Count} dev / {test.Count} test (fractions {1 - devFraction - testFraction:0.##}/{devFraction:0.##}/{testFraction:0.##})",
        };
        var unlabelled = new List<LabelledText>();
        if (maxTrain is int budget && train.Count > budget)
        {
            int before = train.Count;
            var kept = Subsample(train, dataset.Labels, budget, random);
            var keptIds = kept.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
            unlabelled = train.Where(i => !keptIds.Contains(i.Id)).ToList();
            train = kept;
            notes.Add($"training texts cut to a labelled budget of {budget} per label in proportion: {train.Count} of {before} (the other {unlabelled.Count} stay unlabelled)");
        }
        return new LabelledSplit(dataset.Labels, ById(train), ById(dev), ById(test), dataset.Notes.Concat(notes).ToList(), ById(unlabelled));
    }

    // Largest-remainder apportionment of `budget` over the labels (each ≥ 1), then a seeded choice within each label.
    static List<LabelledText> Subsample(List<LabelledText> train, IReadOnlyList<string> labels, int budget, SplitMix64 random)
    {
        var byLabel = labels.Select(l => train.Where(i => i.Label == l).OrderBy(i => i.Id, StringComparer.Ordinal).ToList()).ToList();
        double scale = budget / (double)train.Count;
        var quota = byLabel.Select(m => Math.Max(1, (int)Math.Floor(m.Count * scale))).ToArray();
        var order = Enumerable.Range(0, labels.Count).OrderByDescending(i => byLabel[i].Count * scale - Math.Floor(byLabel[i].Count * scale)).ThenBy(i => i).ToList();
        for (int k = 0; quota.Sum() < budget && k < order.Count * 2; k++)
        {
            int i = order[k % order.Count];
            if (quota[i] < byLabel[i].Count) quota[i]++;
        }
        return byLabel.SelectMany((m, i) => random.Shuffled(m).Take(quota[i])).ToList();
    }

    static int Round(double x) => (int)Math.Round(x, MidpointRounding.AwayFromZero);

    static List<LabelledText> ById(List<LabelledText> items) => items.OrderBy(i => i.Id, StringComparer.Ordinal).ToList();
}

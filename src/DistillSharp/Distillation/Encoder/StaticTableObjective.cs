// Training a static student's token table on a corpus against the teacher's sentence embeddings
// (Model2Vec's "tokenlearn" step, Tulkens & van Dongen 2024): the student embedding of text i is the
// mean of its tokens' rows, s_i = 1/|i| Σ_t E[t], and the loss pulls its direction onto the teacher's
// embedding of the same text in the table's space, y_i:
//   L = 1/B Σ_i (1 − cos(s_i, y_i))  +  λ · InfoNCE,
// the optional second term (λ = student.train.contrastive) an in-batch contrastive loss against
// the teacher's embeddings (van den Oord et al. 2018): row i of cos(s_i, y_j) / τ, τ = 0.05, must
// pick j = i — it ranks, as retrieval does, where the cosine term only aligns.
// Only directions count (the runtime L2-normalises), so a row's length is free to become its
// token's weight: SIF's down-weighting of frequent tokens is learned, not fixed.
using DistillSharp.Data;
using DistillSharp.Models.Static;
using DistillSharp.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Encoder;

/// <summary>The <see cref="ITrainingObjective"/> of a static table: seeded epochs over the texts, cosine to the targets.</summary>
public sealed class StaticTableObjective : ITrainingObjective
{
    readonly StaticTable _table;
    readonly IReadOnlyList<int[]> _ids;
    readonly float[][] _targets;
    readonly bool[] _skip;
    readonly int _batch;
    readonly double _contrastive;
    readonly SplitMix64 _random;
    int[] _order = [];
    int _epoch = -1, _next;

    /// <summary>
    /// Trains <paramref name="table"/> on texts given as token ids (<paramref name="ids"/>) with one
    /// target per text (<paramref name="targets"/>, the table's width); tokens with
    /// <paramref name="skip"/> set never count, as in the runtime. <paramref name="contrastive"/> weights the in-batch InfoNCE term.
    /// </summary>
    public StaticTableObjective(StaticTable table, IReadOnlyList<int[]> ids, float[][] targets, bool[] skip, int batch, ulong seed, double contrastive = 0)
    {
        _contrastive = contrastive;
        if (ids.Count == 0 || ids.Count != targets.Length) throw new ArgumentException($"{ids.Count} texts, {targets.Length} targets");
        if (targets.Any(t => t.Length != table.Dims)) throw new ArgumentException($"every target needs {table.Dims} values");
        if (skip.Length != table.Vocab) throw new ArgumentException($"skip has {skip.Length} entries, the table {table.Vocab} rows");
        (_table, _ids, _targets, _skip, _batch) = (table, ids, targets, skip, Math.Min(batch, ids.Count));
        _random = new SplitMix64(seed);
    }

    /// <inheritdoc/>
    public nn.Module Model => _table;
    /// <inheritdoc/>
    public DataPosition Position => new(Math.Max(_epoch, 0), _next / _batch);
    /// <inheritdoc/>
    public (long Hits, long Misses) Cache => (0, 0);
    /// <inheritdoc/>
    public void BeforeResume(TrainingState state) { }
    /// <inheritdoc/>
    public StagePlan BeginStage(int stage, DataPosition? start) => new([.. _table.parameters()], new Dictionary<string, nn.Module>());
    /// <inheritdoc/>
    public void BeforeStep(int stageStep) { }
    /// <inheritdoc/>
    public void EndStage() { }
    /// <inheritdoc/>
    public string? Finish(bool completed, string? runDir) => null;

    /// <inheritdoc/>
    public MicroBatchLoss NextMicroBatch(bool wantActivationStats)
    {
        if (_epoch < 0 || _next + _batch > _order.Length)
        {
            _order = [.. _random.Shuffled(Enumerable.Range(0, _ids.Count))];
            (_epoch, _next) = (_epoch + 1, 0);
        }
        var rows = _order.AsSpan(_next, _batch).ToArray();
        _next += _batch;
        var (student, target, tokens) = Forward(_table, rows.Select(i => _ids[i]).ToList(), rows.Select(i => _targets[i]).ToList(), _skip);
        var cosine = CosineLoss(student, target);
        var terms = new Dictionary<string, double> { ["cosine"] = cosine.item<float>() };
        if (_contrastive == 0) return new MicroBatchLoss(cosine, terms, tokens);
        var s = nn.functional.normalize(student, dim: 1);
        var t = nn.functional.normalize(target, dim: 1);
        var logits = s.matmul(t.t()) / Temperature;                                             // (B, B)
        var nce = nn.functional.cross_entropy(logits, arange(rows.Length, dtype: ScalarType.Int64));
        terms["contrastive"] = nce.item<float>();
        return new MicroBatchLoss(cosine + _contrastive * nce, terms, tokens);
    }

    /// <summary>τ of the contrastive term.</summary>
    public const double Temperature = 0.05;

    static Tensor CosineLoss(Tensor student, Tensor target) =>
        (1 - nn.functional.cosine_similarity(student, target, dim: 1, eps: 1e-8)).mean();

    /// <summary>The mean of 1 − cos(student, target) over the texts, and the counted tokens.</summary>
    public static (Tensor Loss, long Tokens) Loss(StaticTable table, IReadOnlyList<int[]> ids, IReadOnlyList<float[]> targets, bool[] skip)
    {
        var (student, target, tokens) = Forward(table, ids, targets, skip);
        return (CosineLoss(student, target), tokens);
    }

    static (Tensor Student, Tensor Target, long Tokens) Forward(StaticTable table, IReadOnlyList<int[]> ids, IReadOnlyList<float[]> targets, bool[] skip)
    {
        int b = ids.Count, t = Math.Max(1, ids.Max(x => x.Length));
        var idData = new long[b * t];
        var countData = new float[b * t];
        long tokens = 0;
        for (int i = 0; i < b; i++)
            for (int j = 0; j < ids[i].Length; j++)
            {
                idData[i * t + j] = ids[i][j];
                if (!skip[ids[i][j]]) { countData[i * t + j] = 1; tokens++; }
            }
        var student = table.forward(tensor(idData, [b, t]), tensor(countData, [b, t]));       // (B, D)
        var target = tensor(targets.SelectMany(x => x).ToArray(), [b, table.Dims]);           // (B, D)
        return (student, target, tokens);
    }

    /// <summary>The loss over all <paramref name="ids"/> in chunks of <paramref name="chunk"/>, without gradients (for logs and tests).</summary>
    public static double MeanLoss(StaticTable table, IReadOnlyList<int[]> ids, IReadOnlyList<float[]> targets, bool[] skip, int chunk = 512)
    {
        using var _ = no_grad();
        double total = 0;
        for (int start = 0; start < ids.Count; start += chunk)
        {
            using var scope = NewDisposeScope();
            int n = Math.Min(chunk, ids.Count - start);
            var (loss, _) = Loss(table, ids.Skip(start).Take(n).ToList(), targets.Skip(start).Take(n).ToList(), skip);
            total += loss.item<float>() * n;
        }
        return total / ids.Count;
    }

    /// <summary>
    /// Runs <paramref name="steps"/> AdamW steps (no weight decay, cosine decay from <paramref name="lr"/>
    /// after a 5% warm-up) through the shared <see cref="Trainer"/>; returns its result.
    /// </summary>
    public TrainingResult Train(int steps, double lr, Action<TrainingProgress>? progress = null)
    {
        var stage = new TrainingStage("static", steps, 1, new OptimizerConfig(Lr: lr, WeightDecay: 0), new ScheduleConfig("cosine", 0.05),
            null, Math.Max(1, steps / 10), 0, "student.train.lr");
        return new Trainer([stage], this, new TrainerOptions(null, Progress: progress)).Run();
    }
}

using DistillSharp.Data;
using DistillSharp.Data.Decoder;
using DistillSharp.Distillation.Decoder.Losses;
using DistillSharp.Models.Decoder;
using static TorchSharp.torch;

namespace DistillSharp.Distillation.Decoder;

/// <summary>
/// The decoder family's part of the <see cref="Trainer"/>: one objective for N optimizer steps —
/// next-token CE on packed blocks ("pretrain") or on response tokens ("sft"), or token-level KD
/// against a teacher given as a logits delegate or a sparse cache, optionally mixed with CE ("kd").
/// The loop (AdamW without decay on vectors, warm-up + decay, accumulation, clipping, non-finite
/// skipping, metrics.jsonl, atomic checkpoints with exact resume) is the trainer's.
/// The model is any module; <c>logits</c> maps (ids, attention mask) (B, T) int64 → (B, T, V).
/// </summary>
public sealed class LmTrainer : ITrainingObjective
{
    readonly nn.Module _model;
    readonly Func<Tensor, Tensor, Tensor> _logits;
    readonly ILmBatchSource _data;
    readonly LmTrainerOptions _options;
    readonly Func<Tensor, Tensor, Tensor>? _teacher;
    readonly SparseTeacherCache? _cache;
    readonly TokenKdLoss? _kd;
    readonly long _hits0, _misses0;

    /// <summary>
    /// Sets up a run. For "kd" give <paramref name="teacher"/> (dense logits), <paramref name="teacherCache"/>
    /// (sparse; misses are filled from <paramref name="teacher"/> when given) or both.
    /// </summary>
    public LmTrainer(nn.Module model, Func<Tensor, Tensor, Tensor> logits, ILmBatchSource data, LmTrainerOptions options,
        Func<Tensor, Tensor, Tensor>? teacher = null, SparseTeacherCache? teacherCache = null)
    {
        options.Validate();
        if (options.Objective == "kd")
        {
            if (options.KdWeight > 0 && teacher is null && teacherCache is null)
                throw new DistillSharpException("objective kd needs a teacher (logits delegate) or a sparse teacher cache");
            _kd = TokenKdRegistry.Create(options.Kd);
        }
        _model = model;
        _logits = logits;
        _data = data;
        _options = options;
        _teacher = teacher;
        _cache = teacherCache;
        (_hits0, _misses0) = (teacherCache?.Hits ?? 0, teacherCache?.Misses ?? 0);
    }

    /// <summary>Runs (or resumes) until Steps or MaxSteps.</summary>
    public TrainingResult Run()
    {
        var o = _options;
        var stage = new TrainingStage(o.Objective, o.Steps, o.Accumulate, o.Optimizer, o.Schedule, o.ClipGradNorm, o.LogEvery,
            o.CheckpointEvery, "lr");
        return new Trainer([stage], this, new TrainerOptions(o.RunDir, o.MaxSteps, o.Resume, 0, o.Progress, o.TrimNativeMemoryEvery)).Run();
    }

    /// <inheritdoc/>
    public nn.Module Model => _model;

    /// <inheritdoc/>
    public DataPosition Position => _data.Position;

    /// <inheritdoc/>
    public (long Hits, long Misses) Cache => ((_cache?.Hits ?? 0) - _hits0, (_cache?.Misses ?? 0) - _misses0);

    /// <inheritdoc/>
    public void BeforeResume(TrainingState state) { }

    /// <inheritdoc/>
    public StagePlan BeginStage(int stage, DataPosition? start)
    {
        if (start is not null) _data.Position = start;
        var parameters = _model.parameters().Where(p => p.requires_grad).ToList();
        if (parameters.Count == 0) throw new DistillSharpException("the model has no trainable parameter");
        return new StagePlan(parameters, new Dictionary<string, nn.Module>());
    }

    /// <inheritdoc/>
    public void BeforeStep(int stageStep) { }

    /// <inheritdoc/>
    public MicroBatchLoss NextMicroBatch(bool wantActivationStats)
    {
        var batch = _data.Next();
        var ids = batch.InputTensor();
        var attention = batch.AttentionTensor();
        var mask = batch.LossMaskTensor();
        var logits = _logits(ids, attention);                                  // (B, T, V)
        Tensor loss = zeros(1, dtype: logits.dtype).squeeze();
        var terms = new Dictionary<string, double>();
        double ceWeight = _options.Objective == "kd" ? _options.CeWeight : 1.0;
        if (ceWeight > 0)
        {
            var ce = NextTokenCrossEntropy.Compute(logits, batch.TargetTensor(), mask);
            terms["ce"] = ce.item<float>();
            loss = loss + ceWeight * ce;
        }
        if (_kd != null && _options.KdWeight > 0)
        {
            var kd = _kd.Compute(logits, Teacher(batch, ids, attention), mask);
            terms[_kd.Name] = kd.item<float>();
            loss = loss + _options.KdWeight * kd;
        }
        return new MicroBatchLoss(loss, terms, batch.ScoredTokens);
    }

    /// <inheritdoc/>
    public void EndStage() { }

    /// <inheritdoc/>
    public string? Finish(bool completed, string? runDir) => null;

    KdTeacher Teacher(LmBatch batch, Tensor ids, Tensor attention)
    {
        if (_cache != null)
            return _cache.Get(batch, () => _teacher?.Invoke(ids, attention)
                ?? throw new DistillSharpException($"example {batch.ExampleIds.First(e => !_cache.Contains(e))} is not in the sparse teacher cache {_cache.Directory} and no teacher was given to compute it"));
        using var noGrad = no_grad();
        return new DenseTeacher(_teacher!(ids, attention));
    }
}
